// Package console is the one writer of the job log: every line the action
// prints goes through a Console, which writes workflow commands
// (::warning:: …) inside Actions and plain lines elsewhere, and keeps text the
// action did not write itself (module names, API answers, error messages)
// from becoming a workflow command. It also writes the runner's file
// commands: step outputs and the job summary (files.go).
//
// Inside Actions the workflow commands are written by go-githubactions (an
// Action whose writer is the Console's own, see New), after the Console has
// cleaned the values; the step outputs are not (see WriteOutputs).
package console

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/sethvargo/go-githubactions"
)

// Console prints lines to the job log. Inside Actions, notices, warnings,
// errors, debug lines, groups and masks are workflow commands; outside, plain
// lines ("warning: …"), because nothing interprets the commands there and
// their %-escaping would only garble the text.
//
// Every value formatted into a line is neutralised (Clean): line breaks and
// other control characters become visible escapes, so a value cannot start a
// line of its own. Every plain line is then checked once more: a line that
// would start with "::" (after leading white space, which the runner skips)
// or that contains "##[" (the runner's older command syntax, matched anywhere
// in a line) gets a backslash that stops the runner from reading it as a
// command.
//
// A failed write (a closed stdout: EPIPE) never panics and never stops the
// run: the first error is kept (Err) and later lines are dropped, so a
// rollout finishes or rolls back whatever happens to the log.
type Console struct {
	mu      sync.Mutex
	w       io.Writer
	actions bool
	debug   bool
	err     error
	// quiet drops the plain log lines (Infof, Group, Text): outside Actions
	// with --json, stdout carries the run record and this Console writes only
	// notices, warnings, errors and debug lines, to stderr (NewQuiet).
	quiet bool
	// notices and warnings are the messages printed so far, for the run
	// record (Notices, Warnings).
	notices, warnings []string
	// gha writes the workflow commands. Its writer is the Console itself
	// (logWriter), which never returns an error: go-githubactions panics on
	// a failed write, and the Console keeps the error instead (Err).
	gha *githubactions.Action
}

// New returns a Console writing to w: workflow commands when actions is true,
// plain lines otherwise (debug lines only when debug is true).
func New(w io.Writer, actions, debug bool) *Console {
	c := &Console{w: w, actions: actions, debug: debug}
	c.gha = githubactions.New(githubactions.WithWriter(logWriter{c}))
	return c
}

// NewQuiet returns a Console for a run outside Actions whose standard output
// carries something else (the run record): it writes notices, warnings,
// errors and debug lines (when debug is true) as plain lines to w, and drops
// every other line.
func NewQuiet(w io.Writer, debug bool) *Console {
	c := New(w, false, debug)
	c.quiet = true
	return c
}

// Notices returns the notices printed so far, neutralised as printed.
func (c *Console) Notices() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.notices)
}

// Warnings returns the warnings printed so far, neutralised as printed.
func (c *Console) Warnings() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.warnings)
}

// logWriter is the writer of go-githubactions' commands: each command is one
// Write, which goes through Console.write (one error kept, later lines
// dropped) and always reports success.
type logWriter struct{ c *Console }

func (l logWriter) Write(p []byte) (int, error) {
	l.c.write(string(p))
	return len(p), nil
}

// Err returns the first write error, or nil.
func (c *Console) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *Console) write(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	if _, err := io.WriteString(c.w, s); err != nil {
		c.err = err
	}
}

// Infof prints a line.
func (c *Console) Infof(format string, args ...any) {
	if !c.quiet {
		c.plain("", sprintf(format, args, false))
	}
}

// Noticef prints a notice.
func (c *Console) Noticef(format string, args ...any) { c.level("notice", format, args) }

// Warningf prints a warning.
func (c *Console) Warningf(format string, args ...any) { c.level("warning", format, args) }

// Errorf prints an error.
func (c *Console) Errorf(format string, args ...any) { c.level("error", format, args) }

// Debugf prints a debug line: inside Actions the runner shows it only with
// debug logging on; outside only when debug is set.
func (c *Console) Debugf(format string, args ...any) {
	if c.actions {
		c.gha.Debugf("%s", commandData(sprintf(format, args, true)))
	} else if c.debug {
		c.plain("debug: ", sprintf(format, args, false))
	}
}

// Group starts a collapsible group inside Actions, a heading elsewhere. The
// title is neutralised as a whole: it is usually built from untrusted names.
func (c *Console) Group(title string) {
	if c.quiet {
		return
	}
	if c.actions {
		c.gha.Group(commandData(Clean(title)))
	} else {
		c.plain("", Clean(title))
	}
}

// EndGroup ends the group inside Actions and does nothing elsewhere.
func (c *Console) EndGroup() {
	if c.actions {
		c.gha.EndGroup()
	}
}

// AddMask asks the runner to mask value in the log from now on. It prints
// nothing outside Actions, where nothing reads the command and printing it
// would show the value. A multi-line value is masked line by line, as the
// runner masks each line separately.
func (c *Console) AddMask(value string) {
	if !c.actions {
		return
	}
	for _, line := range strings.FieldsFunc(value, isLineBreak) {
		if strings.TrimSpace(line) != "" {
			c.gha.AddMask(commandData(line))
		}
	}
}

// Text prints text the action wrote itself (the usage), line by line, with
// the same check as every plain line.
func (c *Console) Text(s string) {
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			c.plain("", strings.TrimSuffix(line, "\n"))
		}
	}
}

func (c *Console) level(name, format string, args []any) {
	c.remember(name, sprintf(format, args, false))
	if !c.actions {
		c.plain(name+": ", sprintf(format, args, false))
		return
	}
	data := commandData(sprintf(format, args, true))
	switch name {
	case "notice":
		c.gha.Noticef("%s", data)
	case "warning":
		c.gha.Warningf("%s", data)
	default:
		c.gha.Errorf("%s", data)
	}
}

// remember keeps a notice or warning for the run record.
func (c *Console) remember(name, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch name {
	case "notice":
		c.notices = append(c.notices, msg)
	case "warning":
		c.warnings = append(c.warnings, msg)
	}
}

// commandData prepares the data of a workflow command for go-githubactions,
// which applies the runner's data escaping (%, CR, LF: the command stays on
// one line, and the runner turns %0A back into a line break inside the
// annotation): invalid UTF-8 becomes U+FFFD, and the line terminators it
// does not escape become visible (escapeOtherBreaks).
func commandData(s string) string {
	return escapeOtherBreaks(strings.ToValidUTF8(s, "\uFFFD"))
}

// plain writes prefix+msg as one or more lines (the action's own format
// strings may hold line breaks; values formatted into them cannot), each
// checked so that it cannot be read as a workflow command.
func (c *Console) plain(prefix, msg string) {
	var b strings.Builder
	for _, line := range strings.Split(prefix+msg, "\n") {
		b.WriteString(neutralLine(line))
		b.WriteByte('\n')
	}
	c.write(b.String())
}

// escapeOtherBreaks makes the line terminators other than CR and LF visible
// (\v, \f, NEL, U+2028, U+2029): the runner does not split on them today, but
// other log viewers do.
func escapeOtherBreaks(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return isLineBreak(r) && r != '\n' && r != '\r' }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isLineBreak(r) && r != '\n' && r != '\r' {
			b.WriteString(escapeRune(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// neutralLine stops one plain line from being read as a workflow command: the
// runner trims leading white space and reads a line starting with "::" as a
// command, and finds the older "##[name]" syntax anywhere in a line. Other
// line terminators are escaped as well, in case the action's own text holds
// one.
func neutralLine(line string) string {
	line = escapeOtherBreaks(strings.ReplaceAll(line, "\r", `\r`))
	rest := strings.TrimLeftFunc(line, unicode.IsSpace)
	if strings.HasPrefix(rest, "::") {
		i := len(line) - len(rest)
		line = line[:i] + `\` + line[i:]
	}
	return strings.ReplaceAll(line, "##[", `##\[`)
}

// Clean makes an untrusted value safe to print inside one log line: invalid
// UTF-8 becomes U+FFFD; line breaks, other control characters (ANSI escapes
// included) and the Unicode bidirectional overrides become visible escapes
// (\n, \r, \x1b, \u2028, \u202e); tabs stay.
func Clean(s string) string { return clean(s, false) }

// clean is Clean; keepBreaks keeps CR and LF for a workflow command, whose
// data escaping keeps them on one line (the runner shows them as line breaks
// inside the annotation).
func clean(s string, keepBreaks bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	unsafe := unsafeRune
	if keepBreaks {
		unsafe = func(r rune) bool { return r != '\n' && r != '\r' && unsafeRune(r) }
	}
	if !strings.ContainsFunc(s, unsafe) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafe(r) {
			b.WriteString(escapeRune(r))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	if r == '\t' {
		return false
	}
	return unicode.IsControl(r) || isLineBreak(r) || isBidi(r)
}

func isLineBreak(r rune) bool {
	switch r {
	case '\n', '\r', '\v', '\f', '\u0085', '\u2028', '\u2029':
		return true
	}
	return false
}

// isBidi reports the bidirectional embedding, override and isolate controls,
// which can make a log line read differently from its bytes.
func isBidi(r rune) bool {
	return (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') || r == '\u200e' || r == '\u200f' || r == '\u061c'
}

func escapeRune(r rune) string {
	switch r {
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	}
	if r < utf8.RuneSelf {
		return `\x` + fmt.Sprintf("%02x", r)
	}
	q := strconv.QuoteToASCII(string(r))
	return q[1 : len(q)-1]
}

// sprintf formats with every value neutralised (see arg); keepBreaks is for
// workflow commands (see clean). The format string is the action's own.
func sprintf(format string, args []any, keepBreaks bool) string {
	if len(args) == 0 {
		return format
	}
	wrapped := make([]any, len(args))
	for i, a := range args {
		switch a.(type) {
		case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, bool:
			wrapped[i] = a // safe, and usable as a * width
		default:
			wrapped[i] = arg{a, keepBreaks}
		}
	}
	return fmt.Sprintf(format, wrapped...)
}

// arg formats its value with the verb and flags it was given, then cleans
// the result.
type arg struct {
	v          any
	keepBreaks bool
}

func (a arg) Format(f fmt.State, verb rune) {
	_, _ = io.WriteString(f, clean(fmt.Sprintf(fmt.FormatString(f, verb), a.v), a.keepBreaks))
}

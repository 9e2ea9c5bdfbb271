package esbundle

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// Message is one esbuild error: where it happened and what failed.
type Message struct {
	// File, Line (1-based) and Column (1-based) locate the failing import; File is relative to
	// the project directory. Empty when esbuild gave no location.
	File   string
	Line   int
	Column int
	// LineText is the source line.
	LineText string
	// Text is esbuild's message; Hint is advice (esbuild's note, or this package's).
	Text string
	Hint string
}

func (m Message) String() string {
	var sb strings.Builder
	if m.File != "" {
		fmt.Fprintf(&sb, "%s:%d:%d: ", m.File, m.Line, m.Column)
	}
	sb.WriteString(m.Text)
	if m.Hint != "" {
		sb.WriteString(" (" + m.Hint + ")")
	}
	return sb.String()
}

// Error is a failed bundle.
type Error struct {
	Entry    string
	Messages []Message
}

func (e *Error) Error() string {
	parts := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		parts[i] = m.String()
	}
	return fmt.Sprintf("bundling %s failed: %s", e.Entry, strings.Join(parts, "; "))
}

var couldNotResolve = regexp.MustCompile(`^Could not resolve "([^"]+)"`)

func newError(entry string, msgs []api.Message, mode NodeCompatMode) *Error {
	e := &Error{Entry: entry}
	for _, m := range msgs {
		msg := Message{Text: m.Text}
		if m.Location != nil {
			msg.File, msg.Line, msg.Column, msg.LineText = m.Location.File, m.Location.Line, m.Location.Column+1, m.Location.LineText
		}
		if sm := couldNotResolve.FindStringSubmatch(m.Text); sm != nil {
			msg.Hint = resolveHint(sm[1], mode)
		} else if len(m.Notes) > 0 {
			msg.Hint = m.Notes[0].Text
		}
		e.Messages = append(e.Messages, msg)
	}
	return e
}

// resolveHint is the advice for an import esbuild could not resolve.
func resolveHint(spec string, mode NodeCompatMode) string {
	if name, ok := builtinName(spec); ok && !strings.HasPrefix(spec, "node:") {
		if mode == NodeCompatV2 {
			return fmt.Sprintf("%q is a Node.js built-in module", name)
		}
		return fmt.Sprintf("%q is a Node.js built-in module: add the nodejs_compat compatibility flag (with a compatibility date on or after 2024-09-23), or move the compatibility date to 2026-08-04 or later (Node.js compatibility is on by default from then), to import it without the node: prefix", name)
	}
	if strings.HasPrefix(spec, ".") || strings.HasPrefix(spec, "/") {
		return "no such file next to the importing module"
	}
	return "the package is not installed in the project's node_modules: run npm ci (or your package manager's install) before this step"
}

// formatMessage renders a warning with its location.
func formatMessage(m api.Message) string {
	msg := Message{Text: m.Text}
	if m.Location != nil {
		msg.File, msg.Line, msg.Column = m.Location.File, m.Location.Line, m.Location.Column+1
	}
	return msg.String()
}

package console

import (
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Output is one step output.
type Output struct{ Name, Value string }

// WriteOutputs appends outputs to the runner's output file (GITHUB_OUTPUT) in
// its multi-line form, name<<DELIMITER, the value, DELIMITER, with a fresh
// random delimiter per value as GitHub's own toolkit writes them
// (ghadelimiter_<uuid>): a value cannot end its entry early and add an output
// of its own, since it cannot know the delimiter. A name or value that holds
// its delimiter anyway, or a name with a line break or "<<", is refused and
// nothing is written.
//
// This is deliberately not go-githubactions' SetOutput: it writes every value
// between the fixed delimiter "_GitHubActionsFileCommandDelimeter_", so a
// value holding that line (a commit message, an API answer) ends its entry
// and can add outputs of its own; it also panics when the file cannot be
// written, as its AddStepSummary does (hence AppendSummary below).
func WriteOutputs(path string, outs []Output) error {
	var b strings.Builder
	for _, o := range outs {
		if o.Name == "" || strings.ContainsAny(o.Name, "\r\n=") || strings.Contains(o.Name, "<<") {
			return fmt.Errorf("refused to write step output %q: the name must be one line without \"=\" or \"<<\"", o.Name)
		}
		delim, err := delimiter()
		if err != nil {
			return err
		}
		if strings.Contains(o.Value, delim) || strings.Contains(o.Name, delim) {
			return fmt.Errorf("refused to write step output %q: its value contains the file delimiter", o.Name)
		}
		fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", o.Name, delim, o.Value, delim)
	}
	return appendFile(path, b.String())
}

// AppendSummary appends Markdown to the job summary file
// (GITHUB_STEP_SUMMARY), with invalid UTF-8 replaced by U+FFFD.
func AppendSummary(path, markdown string) error {
	return appendFile(path, strings.ToValidUTF8(markdown, "\uFFFD"))
}

func delimiter() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", fmt.Errorf("failed to make a delimiter for the step outputs: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("ghadelimiter_%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), nil
}

func appendFile(path, s string) (err error) {
	if path == "" {
		return errors.New("no file to write to")
	}
	// The runner creates the file; O_CREATE only covers a run outside it.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("failed to open %s: %w", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("failed to write %s: %w", path, cerr)
		}
	}()
	if _, err := f.WriteString(s); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	return nil
}

package inputs

import "errors"

// ErrHelp is returned by NewSource when --help was asked for.
var ErrHelp = errors.New("help requested")

// Error is a problem with one input; Input is its kebab-case name (or a file).
type Error struct {
	Input string
	Err   error
}

func (e *Error) Error() string { return "input " + quote(e.Input) + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func quote(s string) string { return "`" + s + "`" }

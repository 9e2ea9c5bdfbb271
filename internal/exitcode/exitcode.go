// Package exitcode names the exit codes of the commands: app.Run returns
// them and cmd/* pass them to os.Exit. The runner fails a step on any code
// other than Success.
package exitcode

const (
	// Success: the run succeeded, had nothing to do, or printed the usage.
	Success = 0
	// Failure: bad input, or a failed deploy (after any rollback).
	Failure = 1
)

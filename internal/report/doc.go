// Package report turns a run's result into step outputs and a job summary, and
// an error into one annotation that says what went wrong and what to do. It is
// the one place where errors become advice.
package report

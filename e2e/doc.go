// Package e2e holds end-to-end tests: they build cmd/workers-deploy and run the
// binary the way the GitHub runner does (INPUT_* with hyphens kept, GITHUB_*,
// GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, an event payload) against the emulator
// served from the test process on loopback.
package e2e

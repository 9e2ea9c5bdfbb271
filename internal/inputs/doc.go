// Package inputs reads the action's inputs once, from command-line flags, from
// the runner's INPUT_* environment variables and from documented environment
// fallbacks, into a typed Config. Every invalid input is reported together, and
// each error names the input it belongs to.
package inputs

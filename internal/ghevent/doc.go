// Package ghevent reads the GitHub Actions run context: the GITHUB_* variables
// (through an injected getenv) and the few fields of the event payload the
// action needs. It decides the defaults that depend on the event (version tag
// and message) and whether the event leaves nothing to do.
package ghevent

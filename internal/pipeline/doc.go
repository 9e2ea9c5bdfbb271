// Package pipeline composes one run of the action: it resolves the settings
// (inputs over wrangler configuration over defaults), collects the bundle,
// resolves or creates the Worker, creates or reuses the commit's Version and,
// when asked, deploys it. Everything it talks to is injected.
package pipeline

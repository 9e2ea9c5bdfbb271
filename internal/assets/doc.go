// Package assets builds the manifest of a Worker's static assets (honouring
// `.assetsignore`) and uploads the files the service does not have yet
// through the upload-session flow of docs/workers-api.md §8.
package assets

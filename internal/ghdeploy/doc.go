// Package ghdeploy follows a run as a GitHub Deployment: it creates the
// deployment once the version exists, posts an in_progress status per
// rollout stage (as a pipeline.Observer), and a final success or failure.
// GitHub calls run in order on one goroutine, so the rollout never waits for
// GitHub, and the first failure stops the rest (reporting never breaks a
// deploy).
package ghdeploy

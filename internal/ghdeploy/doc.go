// Package ghdeploy follows a run as a GitHub Deployment: it creates the
// deployment once the version exists, posts an in_progress status per
// rollout stage (as a pipeline.Observer), and a final success or failure.
// GitHub calls run in order on one goroutine, so the rollout never waits for
// GitHub, and the first failure stops the rest (reporting never breaks a
// deploy). The deployment's payload carries a nonce unique to the run
// attempt, by which the GitHub client finds it again when the create's
// outcome is unknown (a broken connection, a 5xx) instead of re-sending it.
package ghdeploy

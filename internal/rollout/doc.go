// Package rollout is the staged percentage rollout: the parser of the `stages`
// input and the state machine that walks the stages, watches each one through
// gates, and restores the previous version when something goes wrong.
//
// The package does no I/O of its own. The live deployment is read and written
// through a [Deployer], health signals come from [HealthChecker] and
// [ErrorRates], and time from a [Clock], so that the whole rollout (holds,
// gates, cancellation, rollback) is tested without sleeping or a network.
package rollout

package inputs

import "strings"

// RolloutConfig holds the inputs of deployments and promotion (issue 3).
type RolloutConfig struct {
	// Stages is the raw `stages` input.
	Stages    string
	VersionID string
	Rollback  bool
}

func (c *Config) loadRollout(l *loader) {
	r := &c.Rollout
	r.Stages = l.str("stages")
	if s := strings.Join(strings.Fields(r.Stages), ""); s != "100%" && s != "100" {
		l.fail("stages", "staged rollouts (%q) are not supported by this build yet; use the default `100%%`", r.Stages)
	}
	r.Rollback = l.boolean("rollback")
	r.VersionID = l.str("version-id")
	l.notYet("health-check-url", "max-error-rate", "version-id")
	// Accepted, no effect yet: health-check-interval, min-requests, no-data.
}

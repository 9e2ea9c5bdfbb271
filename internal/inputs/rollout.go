package inputs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/rollout"
)

// RolloutConfig holds the inputs of deployments and promotion.
type RolloutConfig struct {
	// StagesInput is the raw `stages` input.
	StagesInput string
	// Stages is `stages` parsed: strictly increasing, ending at 100%.
	Stages []rollout.Stage
	// HealthCheckURL is the `health-check-url` input ("" for none).
	HealthCheckURL string
	// HealthCheckInterval is the time between gate checks within a stage.
	HealthCheckInterval time.Duration
	// MaxErrorRate is the `max-error-rate` input, percent 0–100; valid when
	// ErrorRateGate is true.
	MaxErrorRate float64
	// ErrorRateGate is true when `max-error-rate` is set.
	ErrorRateGate bool
	// MinRequests is the fewest requests for the error-rate gate to decide.
	MinRequests int64
	// NoData is the `no-data` policy.
	NoData rollout.NoData
	// Rollback restores the previous version when the rollout fails.
	Rollback bool
	// VersionID is the version to promote (ID, 8+ character prefix or tag);
	// "" means upload this commit's version.
	VersionID string
}

// Promote reports whether the run promotes an existing version.
func (r *RolloutConfig) Promote() bool { return r.VersionID != "" }

// Staged reports whether the stages are anything but the default `100%`.
func (r *RolloutConfig) Staged() bool {
	return len(r.Stages) != 1 || r.Stages[0] != rollout.DefaultStages[0]
}

// rolloutFields are the inputs of deployments and promotion.
var rolloutFields = map[string]field{
	"stages": func(c *Config, l *loader, name string) {
		r := &c.Rollout
		r.StagesInput = l.str(name)
		stages, err := rollout.ParseStages(r.StagesInput)
		if err != nil {
			l.fail(name, "%w", err)
			stages = rollout.DefaultStages
		}
		r.Stages, l.stagesOK = stages, err == nil
	},
	"health-check-url": func(c *Config, l *loader, name string) {
		if v := l.str(name); v != "" {
			if u, err := checkHealthURL(v); err != nil {
				l.fail(name, "%w", err)
			} else {
				c.Rollout.HealthCheckURL = u
			}
		}
	},
	"health-check-interval": func(c *Config, l *loader, name string) {
		iv := l.str(name)
		if d, err := time.ParseDuration(iv); err != nil || d <= 0 {
			l.fail(name, "%q is not a positive Go duration such as `10s` or `1m`", iv)
			c.Rollout.HealthCheckInterval = 10 * time.Second
		} else {
			c.Rollout.HealthCheckInterval = d
		}
	},
	"max-error-rate": func(c *Config, l *loader, name string) {
		if v := l.str(name); v != "" {
			if p, err := ParsePercent(v); err != nil {
				l.fail(name, "%w", err)
			} else {
				c.Rollout.MaxErrorRate, c.Rollout.ErrorRateGate = p, true
			}
		}
	},
	"min-requests": func(c *Config, l *loader, name string) {
		mr := l.str(name)
		if n, err := strconv.ParseInt(mr, 10, 64); err != nil || n < 0 {
			l.fail(name, "%q is not a whole number of requests (0 or more)", mr)
			c.Rollout.MinRequests = 50
		} else {
			c.Rollout.MinRequests = n
		}
	},
	"no-data": func(c *Config, l *loader, name string) {
		if nd, err := rollout.ParseNoData(l.str(name)); err != nil {
			l.fail(name, "%w", err)
			c.Rollout.NoData = rollout.NoDataFail
		} else {
			c.Rollout.NoData = nd
		}
	},
	"rollback": boolField(func(c *Config) *bool { return &c.Rollout.Rollback }),
	"version-id": func(c *Config, l *loader, name string) {
		v := l.str(name)
		c.Rollout.VersionID = v
		if v != "" && (strings.ContainsAny(v, " \t\r\n") || len(v) > MaxTagBytes) {
			l.fail(name, "%q is not a version ID, ID prefix or tag: those are one word of at most %d bytes", v, MaxTagBytes)
		}
	},
}

// checkRollout reports contradictions between the rollout inputs and
// `deploy`, named by both inputs so the fix is obvious.
func checkRollout(c *Config, l *loader) {
	r := &c.Rollout
	deploy := c.Deploy
	switch {
	case r.VersionID != "" && !deploy:
		l.fail("version-id", "`version-id` promotes an existing version, which deploys it, but `deploy` is false; set `deploy: true` (or remove `version-id` to upload this commit's version)")
	case l.stagesOK && r.Staged() && !deploy:
		l.fail("stages", "`stages` is %q but `deploy` is false, so nothing would be deployed; set `deploy: true` or remove `stages`", r.StagesInput)
	}
	gates := []string{}
	if r.HealthCheckURL != "" {
		gates = append(gates, "health-check-url")
	}
	if r.ErrorRateGate {
		gates = append(gates, "max-error-rate")
	}
	if len(gates) > 0 {
		held := false
		for _, st := range r.Stages {
			held = held || st.Hold > 0
		}
		switch {
		case !deploy:
			l.fail(gates[0], "`%s` watches a deployment, but `deploy` is false; set `deploy: true` or remove it", gates[0])
		case !held:
			l.fail(gates[0], "`%s` is set but no stage of `stages` has a hold to watch it in; give stages a duration, e.g. `stages: 10%%@5m, 50%%@10m, 100%%`", gates[0])
		}
	}
}

// checkHealthURL validates a health-check URL: https, or plain http only to
// a loopback host (a local test server). Credentials in the URL are refused
// because they would be printed in logs.
func checkHealthURL(raw string) (string, error) {
	u, err := checkURL(raw, urlRules{
		example:     "https://shop.example.com/healthz",
		credentials: "the health-check URL must not contain a user name or password; it is printed in logs",
		plainHTTP:   "plain http:// is only allowed to a loopback host; use https:// for %q",
	})
	if err != nil {
		return "", err
	}
	return u.String(), nil
}

// ParsePercent parses a percentage such as `1%`, `0.5%` or `2` (percent sign
// optional) in the range 0–100.
func ParsePercent(s string) (float64, error) {
	num := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%"))
	for _, r := range num {
		if (r < '0' || r > '9') && r != '.' {
			return 0, fmt.Errorf("%q is not a percentage such as `1%%` or `0.5%%`", s)
		}
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil || p < 0 || p > 100 {
		return 0, fmt.Errorf("%q is not a percentage from 0%% to 100%%, such as `1%%` or `0.5%%`", s)
	}
	return p, nil
}

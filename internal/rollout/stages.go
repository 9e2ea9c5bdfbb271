package rollout

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MinPercentage is the smallest share a version of a deployment may get,
// percent. Cloudflare's 2025 schema says 0.01..100 (docs/workers-api.md §7.1,
// conflict with the 2024 schema's 0..100): we follow the stricter one, for the
// new version and for the old version's remainder alike.
const MinPercentage = 0.01

// MaxStages bounds the stage list; a longer list is almost certainly a mistake
// and every stage is one deployment (Cloudflare keeps a bounded history).
const MaxStages = 20

// Stage is one step of a rollout: the new version's share of traffic and how
// long to hold (and watch) it before the next step.
type Stage struct {
	// Percentage is the new version's share of traffic, percent 0.01–100.
	Percentage float64
	// Hold is how long the stage is held and watched; 0 moves on at once.
	Hold time.Duration
}

// String renders the stage as it is written in the `stages` input.
func (s Stage) String() string {
	p := FormatPercent(s.Percentage) + "%"
	if s.Hold > 0 {
		p += "@" + s.Hold.String()
	}
	return p
}

// FormatPercent formats a percentage without trailing zeros ("10", "33.5").
func FormatPercent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// DefaultStages is the `stages` default: everything at once, not watched.
var DefaultStages = []Stage{{Percentage: 100}}

// ParseStages parses a comma- or newline-separated stage list such as
// "10%@5m, 50%@10m, 100%": each item is a percentage (decimals allowed, the %
// sign optional), then optionally "@" and a Go duration to hold that stage.
// Percentages must be strictly increasing and end at 100. Errors name the
// offending item.
func ParseStages(s string) ([]Stage, error) {
	var items []string
	for _, line := range strings.Split(s, "\n") {
		for _, item := range strings.Split(line, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
	}
	if len(items) == 0 {
		return nil, errors.New("no stages given; write for example `10%@5m, 50%@10m, 100%` (the default is `100%`)")
	}
	if len(items) > MaxStages {
		return nil, fmt.Errorf("%d stages given; at most %d are allowed", len(items), MaxStages)
	}
	out := make([]Stage, 0, len(items))
	for i, item := range items {
		st, err := parseStage(item)
		if err != nil {
			return nil, fmt.Errorf("stage %d %q: %w", i+1, item, err)
		}
		if i > 0 && st.Percentage <= out[i-1].Percentage {
			return nil, fmt.Errorf("stage %d %q: %s%% is not more than the previous stage's %s%%; percentages must be strictly increasing",
				i+1, item, FormatPercent(st.Percentage), FormatPercent(out[i-1].Percentage))
		}
		if i < len(items)-1 && st.Percentage == 100 {
			return nil, fmt.Errorf("stage %d %q: 100%% must be the last stage", i+1, item)
		}
		if st.Percentage < 100 && 100-st.Percentage < MinPercentage-1e-9 {
			return nil, fmt.Errorf("stage %d %q: leaves %s%% to the previous version; Cloudflare needs at least %s%% per version, so use 100%% or at most %s%%",
				i+1, item, FormatPercent(math.Round((100-st.Percentage)*1000)/1000), FormatPercent(MinPercentage), FormatPercent(100-MinPercentage))
		}
		out = append(out, st)
	}
	if last := out[len(out)-1]; last.Percentage != 100 {
		return nil, fmt.Errorf("stage %d %q: the last stage must be 100%%, so that the rollout finishes; add `100%%`", len(out), items[len(items)-1])
	}
	return out, nil
}

func parseStage(item string) (Stage, error) {
	pct, hold, hasHold := strings.Cut(item, "@")
	pct = strings.TrimSpace(pct)
	num := strings.TrimSpace(strings.TrimSuffix(pct, "%"))
	if num == "" {
		return Stage{}, errors.New("the percentage is missing; write for example `10%@5m`")
	}
	for _, r := range num {
		if (r < '0' || r > '9') && r != '.' {
			return Stage{}, fmt.Errorf("%q is not a percentage; write a number from %s to 100, for example `10%%` or `2.5%%`", pct, FormatPercent(MinPercentage))
		}
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(p) || math.IsInf(p, 0) {
		return Stage{}, fmt.Errorf("%q is not a percentage; write a number from %s to 100, for example `10%%` or `2.5%%`", pct, FormatPercent(MinPercentage))
	}
	if p < MinPercentage || p > 100 {
		return Stage{}, fmt.Errorf("%s%% is out of range; a stage's percentage is from %s to 100", FormatPercent(p), FormatPercent(MinPercentage))
	}
	if i := strings.IndexByte(num, '.'); i >= 0 && len(num)-i-1 > 3 {
		return Stage{}, fmt.Errorf("%q has more than 3 decimals; Cloudflare compares percentages to 0.001", pct)
	}
	st := Stage{Percentage: p}
	if hasHold {
		hold = strings.TrimSpace(hold)
		d, err := time.ParseDuration(hold)
		if err != nil {
			return Stage{}, fmt.Errorf("hold %q is not a Go duration such as `30s`, `5m` or `1h30m`", hold)
		}
		if d <= 0 {
			return Stage{}, fmt.Errorf("hold %q must be positive; leave out `@…` to move on at once", hold)
		}
		if d > MaxHold {
			return Stage{}, fmt.Errorf("hold %q is longer than %s; a GitHub job runs for at most 6 hours", hold, MaxHold)
		}
		st.Hold = d
	}
	return st, nil
}

// MaxHold bounds one stage's hold: a GitHub-hosted job is cancelled after 6
// hours, so a longer hold can never finish.
const MaxHold = 6 * time.Hour

package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// StageTable renders a rollout's stages (percentage, hold, checks, requests,
// errors, rate, verdict) as a Markdown table, or "" when there is nothing to
// show: no stages, or a single unwatched 100% deployment.
func StageTable(stages []pipeline.StageReport) string {
	if len(stages) == 0 || (len(stages) == 1 && stages[0].Hold == 0 && !stages[0].Measured && stages[0].Checks == 0) {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n#### Rollout\n\n")
	b.WriteString("| Stage | Traffic | Hold | Health checks | Requests | Errors | Error rate | Verdict |\n")
	b.WriteString("|---:|---:|---|---:|---:|---:|---:|---|\n")
	for _, s := range stages {
		hold := "—"
		if s.Hold > 0 {
			hold = shortDuration(s.Hold)
			if s.Extended > 0 {
				hold += " (+" + shortDuration(s.Extended) + " waiting for data)"
			}
		}
		checks := "—"
		if s.Checks > 0 {
			checks = strconv.Itoa(s.Checks)
			if s.FailedChecks > 0 {
				checks += fmt.Sprintf(" (%d failed)", s.FailedChecks)
			}
		}
		req, errs, rate := "—", "—", "—"
		if s.Measured {
			req, errs = strconv.FormatInt(s.Requests, 10), strconv.FormatInt(s.Errors, 10)
			switch {
			case s.Requests == 0:
				rate = "no data"
			case s.NoData:
				rate = fmt.Sprintf("%.2f%% (too few requests)", s.Rate)
			default:
				rate = fmt.Sprintf("%.2f%%", s.Rate)
			}
		}
		verdict := s.Verdict
		if s.Resumed {
			verdict += " (resumed)"
		}
		if s.Reason != "" {
			verdict += ": " + s.Reason
		}
		fmt.Fprintf(&b, "| %d | %s%% | %s | %s | %s | %s | %s | %s |\n", s.Index+1,
			strconv.FormatFloat(s.Percentage, 'f', -1, 64), hold, checks, req, errs, rate, escape(verdict))
	}
	return b.String()
}

// shortDuration formats d without zero units: 5m, 1h30m, 300ms.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

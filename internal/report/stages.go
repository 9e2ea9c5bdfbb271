package report

import "github.com/workers-deploy/workers-deploy/internal/pipeline"

// StageTable renders a rollout's stages (percentage, hold, checks, requests,
// errors, rate, verdict) as a Markdown table, or "" when there were none.
// Issue 3 fills it in.
func StageTable(stages []pipeline.StageReport) string {
	return ""
}

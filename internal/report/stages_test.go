package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

func TestStageTableGolden(t *testing.T) {
	t.Parallel()
	stages := []pipeline.StageReport{
		{Index: 0, Percentage: 10, Hold: 5 * time.Minute, Checks: 30, Measured: true, Requests: 1200, Errors: 3, Rate: 0.25, Verdict: "passed", Resumed: true},
		{Index: 1, Percentage: 33.5, Hold: 90 * time.Minute, Extended: 10 * time.Minute, Measured: true, Requests: 12, Errors: 1, Rate: 8.333333, NoData: true, Verdict: "passed", Reason: "no data (12 of 50 requests); no-data is pass"},
		{Index: 2, Percentage: 50, Hold: 300 * time.Millisecond, Checks: 2, FailedChecks: 1, Verdict: "failed", Reason: "health check 2 failed: GET https://shop.example.com/healthz: HTTP 503 | <b>@octocat</b>"},
		{Index: 3, Percentage: 100, Measured: true, Verdict: "pending"},
	}
	golden(t, "stages.md", StageTable(stages))
}

func TestStageTableEmpty(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "", StageTable(nil))
	assert.Equal(t, "", StageTable([]pipeline.StageReport{{Percentage: 100, Verdict: "not watched"}}))
	assert.NotEqual(t, "", StageTable([]pipeline.StageReport{{Percentage: 100, Hold: time.Minute, Verdict: "passed"}}))
}

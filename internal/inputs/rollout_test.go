package inputs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/rollout"
)

func loadRollout(t *testing.T, args ...string) (*Config, error) {
	t.Helper()
	base := []string{"--api-token=t", "--account-id=0123456789abcdef0123456789abcdef", "--worker=shop"}
	src, err := NewSource(append(base, args...), nil)
	require.NoError(t, err)
	return Load(src, LoadOptions{Workspace: t.TempDir()})
}

func TestLoadRollout(t *testing.T) {
	t.Parallel()
	c, err := loadRollout(t)
	require.NoError(t, err)
	r := c.Rollout
	assert.Equal(t, rollout.DefaultStages, r.Stages)
	assert.False(t, r.Staged())
	assert.Equal(t, 10*time.Second, r.HealthCheckInterval)
	assert.Equal(t, int64(50), r.MinRequests)
	assert.Equal(t, rollout.NoDataFail, r.NoData)
	assert.True(t, r.Rollback)
	assert.False(t, r.Promote())

	c, err = loadRollout(t, "--deploy", "--stages", "10%@5m, 50%@10m, 100%", "--health-check-url", "https://shop.example.com/healthz",
		"--health-check-interval", "30s", "--max-error-rate", "0.5%", "--min-requests", "0", "--no-data", "hold", "--rollback=false", "--version-id", "v1.2")
	require.NoError(t, err)
	r = c.Rollout
	assert.Equal(t, []rollout.Stage{{Percentage: 10, Hold: 5 * time.Minute}, {Percentage: 50, Hold: 10 * time.Minute}, {Percentage: 100}}, r.Stages)
	assert.Equal(t, "https://shop.example.com/healthz", r.HealthCheckURL)
	assert.Equal(t, 30*time.Second, r.HealthCheckInterval)
	assert.True(t, r.ErrorRateGate)
	assert.Equal(t, 0.5, r.MaxErrorRate)
	assert.Equal(t, int64(0), r.MinRequests)
	assert.Equal(t, rollout.NoDataHold, r.NoData)
	assert.False(t, r.Rollback)
	assert.Equal(t, "v1.2", r.VersionID)

	c, err = loadRollout(t, "--deploy", "--stages", "50%@1s,100%", "--health-check-url", "http://127.0.0.1:8080/h")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080/h", c.Rollout.HealthCheckURL)
}

func TestLoadRolloutErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string
		input string
		want  string
	}{
		{"bad stages", []string{"--deploy", "--stages", "10%, 5%, 100%"}, "stages", `stage 2 "5%"`},
		{"stages without deploy", []string{"--stages", "10%@1m, 100%"}, "stages", "`deploy` is false"},
		{"version-id without deploy", []string{"--version-id", "abcdef12"}, "version-id", "set `deploy: true`"},
		{"version-id with spaces", []string{"--deploy", "--version-id", "a b"}, "version-id", "is not a version ID"},
		{"http to a public host", []string{"--deploy", "--stages", "10%@1m,100%", "--health-check-url", "http://shop.example.com/h"}, "health-check-url", "only allowed to a loopback host"},
		{"credentials in url", []string{"--deploy", "--stages", "10%@1m,100%", "--health-check-url", "https://u:p@shop.example.com/h"}, "health-check-url", "must not contain a user name"},
		{"relative url", []string{"--deploy", "--stages", "10%@1m,100%", "--health-check-url", "/healthz"}, "health-check-url", "not an absolute URL"},
		{"gate without deploy", []string{"--health-check-url", "https://shop.example.com/h"}, "health-check-url", "`deploy` is false"},
		{"gate without hold", []string{"--deploy", "--max-error-rate", "1%"}, "max-error-rate", "no stage of `stages` has a hold"},
		{"interval", []string{"--health-check-interval", "0s"}, "health-check-interval", `"0s" is not a positive Go duration`},
		{"interval word", []string{"--health-check-interval", "often"}, "health-check-interval", "not a positive Go duration"},
		{"error rate over 100", []string{"--deploy", "--stages", "10%@1m,100%", "--max-error-rate", "150%"}, "max-error-rate", "from 0% to 100%"},
		{"error rate word", []string{"--deploy", "--stages", "10%@1m,100%", "--max-error-rate", "low"}, "max-error-rate", "not a percentage"},
		{"min-requests negative", []string{"--min-requests", "-1"}, "min-requests", "not a whole number"},
		{"no-data", []string{"--no-data", "ignore"}, "no-data", "use fail, pass or hold"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := loadRollout(t, tc.args...)
			require.Error(t, err)
			var ie *Error
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, err.Error(), "input `"+tc.input+"`: ")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"1%", "0.5%", "100", "", "-1%", "1e2", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePercent(s)
		if err == nil && (p < 0 || p > 100 || p != p) {
			t.Fatalf("%q gave %v", s, p)
		}
	})
}

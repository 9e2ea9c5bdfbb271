package esbundle

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gcSettings reads the collector's percent and memory limit (setting the percent back at once).
func gcSettings() (percent int, limit int64) {
	percent = debug.SetGCPercent(-1)
	debug.SetGCPercent(percent)
	return percent, debug.SetMemoryLimit(-1)
}

// withGCSettings sets the collector's percent and memory limit for one test and restores the
// process's own afterwards. Tests that use it must not run in parallel with bundling tests.
func withGCSettings(t *testing.T, percent int, limit int64) {
	t.Helper()
	oldPercent := debug.SetGCPercent(percent)
	oldLimit := debug.SetMemoryLimit(limit)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
}

func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// bigProject writes a project whose entry imports about 1 MB of generated JavaScript: enough
// allocation for several collections at GOGC=100.
func bigProject(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	var sb strings.Builder
	for i := range 12000 {
		fmt.Fprintf(&sb, "export function f%d(a) { return a.map((x) => ({ k%d: x + %d, s: `v${x}` })); }\n", i, i, i)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "big.js"), []byte(sb.String()), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "index.js"), []byte(
		"import * as m from \"./big.js\";\nexport default { fetch() { return new Response(String(Object.keys(m).length)); } };\n"), 0o644))
	return dir
}

func TestBundleRunsWithoutGC(t *testing.T) {
	dir := bigProject(t)
	withGCSettings(t, 100, math.MaxInt64)
	before := gcCycles()
	r, err := Bundle(Options{Entry: "index.js", ProjectDir: dir, CompatibilityDate: "2025-06-01", KeepNames: true})
	after := gcCycles()
	require.NoError(t, err)
	assert.Greater(t, len(r.Modules[0].Content), 1<<20)
	assert.Equal(t, before, after, "garbage collections ran during the bundle")
	percent, limit := gcSettings()
	assert.Equal(t, 100, percent, "GC percent after the bundle")
	assert.Equal(t, int64(math.MaxInt64), limit, "memory limit after the bundle")
}

func TestPauseGC(t *testing.T) {
	tests := []struct {
		name            string
		percent         int
		limit           int64
		wantLimitDuring int64
	}{
		{name: "defaults", percent: 100, limit: math.MaxInt64, wantLimitDuring: BuildMemoryLimit},
		{name: "GOGC=150", percent: 150, limit: math.MaxInt64, wantLimitDuring: BuildMemoryLimit},
		{name: "lower GOMEMLIMIT kept", percent: 100, limit: 256 << 20, wantLimitDuring: 256 << 20},
		{name: "higher GOMEMLIMIT lowered", percent: 100, limit: 4 << 30, wantLimitDuring: BuildMemoryLimit},
		{name: "GOGC=off already", percent: -1, limit: 2 << 30, wantLimitDuring: BuildMemoryLimit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			withGCSettings(t, tt.percent, tt.limit)
			resume := pauseGC()
			percent, limit := gcSettings()
			assert.Equal(t, -1, percent, "GC percent during the build")
			assert.Equal(t, tt.wantLimitDuring, limit, "memory limit during the build")
			resume()
			percent, limit = gcSettings()
			assert.Equal(t, tt.percent, percent, "GC percent restored")
			assert.Equal(t, tt.limit, limit, "memory limit restored")
		})
	}
}

func TestPauseGCOverlapping(t *testing.T) {
	withGCSettings(t, 120, 3<<30)
	first := pauseGC()
	second := pauseGC()
	first()
	first() // a second call is a no-op: it must not end the other build's pause
	percent, limit := gcSettings()
	assert.Equal(t, -1, percent, "GC turned back on while a build still runs")
	assert.Equal(t, int64(BuildMemoryLimit), limit)
	second()
	percent, limit = gcSettings()
	assert.Equal(t, 120, percent)
	assert.Equal(t, int64(3<<30), limit)
	// A later build saves the settings afresh.
	debug.SetGCPercent(80)
	third := pauseGC()
	third()
	percent, _ = gcSettings()
	assert.Equal(t, 80, percent)
}

// TestBundleConcurrent bundles the test projects from several goroutines at once: each result
// must equal the one bundled alone, and the collector's settings must be back afterwards.
func TestBundleConcurrent(t *testing.T) {
	withGCSettings(t, 100, math.MaxInt64)
	jobs := []Options{
		{Entry: "src/index.ts", ProjectDir: project(t, "ts-wasm-txt"), CompatibilityDate: "2025-06-01"},
		{Entry: "src/index.ts", ProjectDir: project(t, "nodecompat"), CompatibilityDate: "2025-06-01", CompatibilityFlags: []string{"nodejs_compat"}},
		{Entry: "src/index.js", ProjectDir: project(t, "unenv"), CompatibilityDate: "2025-01-01", CompatibilityFlags: []string{"nodejs_compat"}},
		{Entry: "src/index.ts", ProjectDir: project(t, "durable-object"), CompatibilityDate: "2025-06-01", KeepNames: true, SourceMap: true},
	}
	want := make([]string, len(jobs))
	for i, o := range jobs {
		r, err := Bundle(o)
		require.NoError(t, err)
		want[i] = render(r)
	}
	const rounds = 3
	got := make([]string, len(jobs)*rounds)
	errs := make([]error, len(got))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			r, err := Bundle(jobs[i%len(jobs)])
			if err != nil {
				errs[i] = err
				return
			}
			got[i] = render(r)
		})
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		assert.Equal(t, want[i%len(jobs)], got[i], "job %d", i%len(jobs))
	}
	percent, limit := gcSettings()
	assert.Equal(t, 100, percent)
	assert.Equal(t, int64(math.MaxInt64), limit)
}

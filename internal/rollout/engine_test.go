package rollout

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	newV = "11111111-1111-4111-8111-111111111111"
	oldV = "22222222-2222-4222-8222-222222222222"
	othV = "33333333-3333-4333-8333-333333333333"
)

// fakeClock fires every timer at once and moves its time forward by the
// timer's duration, so holds take no real time.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

// fakeDeployer keeps deployments newest first and records writes.
type fakeDeployer struct {
	mu      sync.Mutex
	live    []*Deployment
	writes  [][]Share
	reads   int
	n       int
	liveErr error
	// deployErr fails the write with this index (0-based); applied says
	// whether that failed write still took effect.
	deployErrAt int
	deployErr   error
	applied     bool
	// onDeploy runs before each write with its ctx.
	onDeploy func(ctx context.Context, shares []Share)
	// onRead runs under the lock at the start of each read, with its number
	// (1-based); it may change live.
	onRead func(n int)
	// empty makes that many reads answer "no deployment".
	empty int
}

func newDeployer(initial ...Share) *fakeDeployer {
	f := &fakeDeployer{deployErrAt: -1}
	if len(initial) > 0 {
		f.live = []*Deployment{{ID: "d0", Source: "wrangler", AuthorEmail: "dev@example.com", Shares: initial}}
	}
	return f
}

func (f *fakeDeployer) Live(ctx context.Context) (*Deployment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	if f.onRead != nil {
		f.onRead(f.reads)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.liveErr != nil {
		return nil, f.liveErr
	}
	if f.empty > 0 {
		f.empty--
		return nil, nil
	}
	if len(f.live) == 0 {
		return nil, nil
	}
	return f.live[0], nil
}

func (f *fakeDeployer) Deploy(ctx context.Context, shares []Share) (*Deployment, error) {
	if f.onDeploy != nil {
		f.onDeploy(ctx, shares)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	idx := len(f.writes)
	f.writes = append(f.writes, shares)
	if idx == f.deployErrAt && !f.applied {
		return nil, f.deployErr
	}
	f.n++
	d := &Deployment{ID: fmt.Sprintf("d%d", f.n), Source: "api", Shares: shares}
	f.live = append([]*Deployment{d}, f.live...)
	if idx == f.deployErrAt {
		return nil, f.deployErr
	}
	return d, nil
}

// foreign makes someone else deploy.
func (f *fakeDeployer) foreign(shares ...Share) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.live = append([]*Deployment{{ID: "human", Source: "dash", AuthorEmail: "ops@example.com", Shares: shares}}, f.live...)
}

type healthFunc func(ctx context.Context) error

func (h healthFunc) Check(ctx context.Context) error { return h(ctx) }

type ratesFunc func(since, until time.Time) (Measurement, error)

func (r ratesFunc) Measure(_ context.Context, since, until time.Time) (Measurement, error) {
	return r(since, until)
}

type nopLogger struct{}

func (nopLogger) Infof(string, ...any)    {}
func (nopLogger) Warningf(string, ...any) {}

func stages(t *testing.T, s string) []Stage {
	t.Helper()
	st, err := ParseStages(s)
	require.NoError(t, err)
	return st
}

func engine(t *testing.T, cfg Config, dep Deployer, clock Clock) *Engine {
	t.Helper()
	if cfg.VersionID == "" {
		cfg.VersionID = newV
	}
	e, err := New(cfg, dep, clock, nopLogger{})
	require.NoError(t, err)
	return e
}

func healthy(n *int) HealthChecker {
	return healthFunc(func(context.Context) error { *n++; return nil })
}

func TestThreeStageRollout(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	clock := newClock()
	start := clock.Now()
	checks := 0
	var windows [][2]time.Time
	rates := ratesFunc(func(since, until time.Time) (Measurement, error) {
		windows = append(windows, [2]time.Time{since, until})
		return Measurement{Requests: 1000, Errors: 5}, nil
	})
	e := engine(t, Config{Stages: stages(t, "10%@5m, 50%@10m, 100%"), Rollback: true, Interval: time.Minute,
		Health: healthy(&checks), Rates: rates, MaxErrorRate: 1, MinRequests: 50}, dep, clock)
	var started, ended []float64
	e.OnStageStart = func(s StageResult) { started = append(started, s.Percentage) }
	e.OnStageEnd = func(s StageResult) { ended = append(ended, s.Percentage) }
	out, err := e.Run(context.Background())
	require.NoError(t, err)

	assert.Equal(t, [][]Share{
		{{newV, 10}, {oldV, 90}},
		{{newV, 50}, {oldV, 50}},
		{{newV, 100}},
	}, dep.writes)
	assert.Equal(t, 15, checks, "one check per minute of hold")
	assert.Equal(t, 15*time.Minute, clock.Now().Sub(start), "the holds, on the fake clock")
	// A breach check each minute during the holds (4 + 9), and the verdict over
	// the whole hold at the end of each stage; every window starts at its stage.
	require.Len(t, windows, 15)
	assert.Equal(t, 5*time.Minute, windows[4][1].Sub(windows[4][0]))
	assert.Equal(t, 10*time.Minute, windows[14][1].Sub(windows[14][0]))
	for i, w := range windows {
		stageStart := start
		if i >= 5 {
			stageStart = start.Add(5 * time.Minute)
		}
		assert.Equal(t, stageStart, w[0], "window %d starts at its stage's start", i)
	}
	assert.Equal(t, oldV, out.BaselineID)
	assert.Equal(t, "d3", out.DeploymentID)
	assert.Equal(t, 3, dep.reads, "one read before the rollout and one before each later stage")
	assert.Equal(t, float64(100), out.Percentage)
	assert.False(t, out.RolledBack)
	assert.Equal(t, []float64{10, 50, 100}, started)
	assert.Equal(t, []float64{10, 50, 100}, ended)
	require.Len(t, out.Stages, 3)
	assert.Equal(t, VerdictPassed, out.Stages[0].Verdict)
	assert.Equal(t, 5, out.Stages[0].Checks)
	assert.Equal(t, int64(1000), out.Stages[1].Requests)
	assert.InDelta(t, 0.5, out.Stages[1].Rate, 1e-9)
	assert.Equal(t, VerdictNotWatched, out.Stages[2].Verdict)
}

func TestRolloutStart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		dep        *fakeDeployer
		stages     string
		wantWrites [][]Share
		wantErr    string
		wantBase   string
		wantPct    float64
	}{
		{name: "no deployment yet goes to 100% at once", dep: newDeployer(), stages: "10%@1m, 100%",
			wantWrites: [][]Share{{{newV, 100}}}, wantPct: 100},
		{name: "already live", dep: newDeployer(Share{newV, 100}), stages: "10%@1m, 100%", wantPct: 100},
		{name: "foreign split is refused", dep: newDeployer(Share{oldV, 70}, Share{othV, 30}), stages: "10%@1m, 100%",
			wantErr: "a split that this run did not start: deployment d0 (" + oldV + " at 70%, " + othV + " at 30%) [source wrangler, author dev@example.com]"},
		{name: "resume at a stage's share", dep: newDeployer(Share{newV, 50}, Share{oldV, 50}), stages: "10%@1m, 50%@1m, 100%",
			wantWrites: [][]Share{{{newV, 100}}}, wantBase: oldV, wantPct: 100},
		{name: "resume between stages", dep: newDeployer(Share{oldV, 70}, Share{newV, 30}), stages: "10%@1m, 50%@1m, 100%",
			wantWrites: [][]Share{{{newV, 50}, {oldV, 50}}, {{newV, 100}}}, wantBase: oldV, wantPct: 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := engine(t, Config{Stages: stages(t, tc.stages), Rollback: true}, tc.dep, newClock())
			out, err := e.Run(context.Background())
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				var fs *ForeignSplitError
				assert.ErrorAs(t, err, &fs)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantWrites, tc.dep.writes)
			assert.Equal(t, tc.wantBase, out.BaselineID)
			assert.Equal(t, tc.wantPct, out.Percentage)
		})
	}
}

func TestResumeHoldsTheLiveStageAgain(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{newV, 50}, Share{oldV, 50})
	checks := 0
	e := engine(t, Config{Stages: stages(t, "10%@1m, 50%@2m, 100%"), Rollback: true, Interval: time.Minute, Health: healthy(&checks)}, dep, newClock())
	out, err := e.Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, VerdictSkipped, out.Stages[0].Verdict)
	assert.True(t, out.Stages[1].Resumed)
	assert.Equal(t, "d0", out.Stages[1].DeploymentID)
	assert.Equal(t, 2, checks)
	assert.Equal(t, [][]Share{{{newV, 100}}}, dep.writes)
	assert.Equal(t, 2, dep.reads, "one read before the rollout, one before stage 3: the resumed stage is not read twice")
}

func TestGateFailuresRollBack(t *testing.T) {
	t.Parallel()
	data := func(req, errs int64) ErrorRates {
		return ratesFunc(func(time.Time, time.Time) (Measurement, error) { return Measurement{req, errs}, nil })
	}
	cases := []struct {
		name      string
		cfg       Config
		wantStage int
		wantErr   string
	}{
		{name: "health check fails", wantStage: 1, wantErr: "health check 1 failed: HTTP 503",
			cfg: Config{Health: func() HealthChecker {
				n := 0
				return healthFunc(func(context.Context) error {
					n++
					if n == 3 {
						return errors.New("HTTP 503")
					}
					return nil
				})
			}()}},
		{name: "error rate too high", wantStage: 0, wantErr: "error rate 2.00% (20 errors in 1000 requests) is above max-error-rate 1%",
			cfg: Config{Rates: data(1000, 20), MaxErrorRate: 1, MinRequests: 50}},
		{name: "no data fails", wantStage: 0, wantErr: "no data: 10 requests to the new version, fewer than min-requests 50 (no-data is fail)",
			cfg: Config{Rates: data(10, 0), MaxErrorRate: 1, MinRequests: 50, NoData: NoDataFail}},
		{name: "no data hold then fail", wantStage: 0, wantErr: "(no-data is hold)",
			cfg: Config{Rates: data(0, 0), MaxErrorRate: 1, MinRequests: 1, NoData: NoDataHold}},
		{name: "analytics error fails", wantStage: 0, wantErr: "failed to measure the error rate: HTTP 403",
			cfg: Config{Rates: ratesFunc(func(time.Time, time.Time) (Measurement, error) { return Measurement{}, errors.New("HTTP 403") }), MinRequests: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dep := newDeployer(Share{oldV, 100})
			tc.cfg.Stages, tc.cfg.Rollback, tc.cfg.Interval = stages(t, "10%@2m, 50%@2m, 100%"), true, time.Minute
			out, err := engine(t, tc.cfg, dep, newClock()).Run(context.Background())
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrGateFailed)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Contains(t, err.Error(), "rolled back: version "+oldV+" serves 100% again")
			var fe *FailedError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.wantStage, fe.Stage.Index)
			assert.True(t, out.RolledBack)
			assert.Equal(t, float64(0), out.Percentage)
			assert.Equal(t, VerdictFailed, out.Stages[tc.wantStage].Verdict)
			assert.Equal(t, []Share{{oldV, 100}}, dep.writes[len(dep.writes)-1])
			assert.Len(t, dep.writes, tc.wantStage+2)
			assert.Equal(t, fmt.Sprintf("d%d", tc.wantStage+2), out.DeploymentID)
		})
	}
}

func TestNoDataPolicies(t *testing.T) {
	t.Parallel()
	t.Run("pass", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		rates := ratesFunc(func(time.Time, time.Time) (Measurement, error) { return Measurement{3, 3}, nil })
		out, err := engine(t, Config{Stages: stages(t, "10%@1m, 100%"), Interval: time.Minute, Rates: rates, MinRequests: 50, NoData: NoDataPass}, dep, newClock()).Run(context.Background())
		require.NoError(t, err)
		assert.True(t, out.Stages[0].NoData)
		assert.Equal(t, VerdictPassed, out.Stages[0].Verdict)
		assert.Contains(t, out.Stages[0].Reason, "no data (3 of 50 requests)")
	})
	t.Run("hold until data arrives", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		clock := newClock()
		start := clock.Now()
		calls := 0
		rates := ratesFunc(func(since, until time.Time) (Measurement, error) {
			calls++
			if until.Sub(since) >= 13*time.Minute {
				return Measurement{100, 0}, nil
			}
			return Measurement{}, nil
		})
		out, err := engine(t, Config{Stages: stages(t, "10%@10m, 100%"), Interval: time.Minute, Rates: rates, MinRequests: 50, NoData: NoDataHold}, dep, clock).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, VerdictPassed, out.Stages[0].Verdict)
		assert.Equal(t, 3*time.Minute, out.Stages[0].Extended)
		assert.Equal(t, 13*time.Minute, clock.Now().Sub(start))
		// 9 breach checks during the hold (1m … 9m), the verdict at 10m, then
		// one per minute of the extension until data arrives at 13m.
		assert.Equal(t, 13, calls)
	})
	t.Run("hold at most once more", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		clock := newClock()
		start := clock.Now()
		rates := ratesFunc(func(time.Time, time.Time) (Measurement, error) { return Measurement{}, nil })
		out, err := engine(t, Config{Stages: stages(t, "10%@10m, 100%"), Rollback: true, Interval: time.Minute, Rates: rates, MinRequests: 50, NoData: NoDataHold}, dep, clock).Run(context.Background())
		require.Error(t, err)
		assert.Equal(t, 10*time.Minute, out.Stages[0].Extended)
		assert.Equal(t, 20*time.Minute, clock.Now().Sub(start))
		assert.True(t, out.RolledBack)
	})
}

func TestCancellationRollsBackWithAFreshContext(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	health := healthFunc(func(context.Context) error {
		n++
		if n == 2 {
			cancel() // SIGINT arrives mid-stage
		}
		return nil
	})
	var rollbackDeadline time.Duration
	dep.onDeploy = func(ctx context.Context, shares []Share) {
		if shares[0].VersionID == oldV {
			require.NoError(t, ctx.Err(), "the rollback must not use the cancelled context")
			d, ok := ctx.Deadline()
			require.True(t, ok)
			rollbackDeadline = time.Until(d)
		}
	}
	out, err := engine(t, Config{Stages: stages(t, "10%@5m, 50%@5m, 100%"), Rollback: true, Interval: time.Minute, Health: health}, dep, newClock()).Run(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "the run was cancelled")
	assert.Contains(t, err.Error(), "rolled back")
	assert.True(t, out.RolledBack)
	assert.Equal(t, VerdictCancelled, out.Stages[0].Verdict)
	assert.Equal(t, [][]Share{{{newV, 10}, {oldV, 90}}, {{oldV, 100}}}, dep.writes)
	assert.Greater(t, rollbackDeadline, time.Duration(0))
	assert.LessOrEqual(t, rollbackDeadline, DefaultRollbackTimeout)
}

func TestForeignChanges(t *testing.T) {
	t.Parallel()
	t.Run("during a hold: stop without writing", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		n := 0
		health := healthFunc(func(context.Context) error {
			if n++; n == 1 {
				dep.foreign(Share{othV, 100})
			}
			return nil
		})
		out, err := engine(t, Config{Stages: stages(t, "10%@2m, 50%@2m, 100%"), Rollback: true, Interval: time.Minute, Health: health}, dep, newClock()).Run(context.Background())
		require.Error(t, err)
		var ce *ChangedError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "d1", ce.Expected)
		assert.Contains(t, err.Error(), "before stage 2 (50%): this run last wrote deployment d1, but deployment human ("+othV+" at 100%) [source dash, author ops@example.com] is live now")
		assert.Len(t, dep.writes, 1, "nothing written after the foreign deployment")
		assert.False(t, out.RolledBack)
		assert.Equal(t, float64(0), out.Percentage, "the foreign deployment gives the new version nothing")
		assert.Equal(t, "human", func() string { d, _ := dep.Live(context.Background()); return d.ID }())
	})
	t.Run("before the rollback: not overwritten", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		health := healthFunc(func(context.Context) error {
			dep.foreign(Share{othV, 100})
			return errors.New("HTTP 500")
		})
		out, err := engine(t, Config{Stages: stages(t, "10%@2m, 100%"), Rollback: true, Interval: time.Minute, Health: health}, dep, newClock()).Run(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not rolled back: the live deployment changed before the rollback")
		assert.Len(t, dep.writes, 1)
		assert.False(t, out.RolledBack)
	})
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("HTTP 500 after retries")
	cases := []struct {
		name       string
		setup      func(*fakeDeployer)
		wantWrites int
		wantRolled bool
		wantText   string
	}{
		{name: "first write fails and was not applied", setup: func(f *fakeDeployer) { f.deployErrAt, f.deployErr = 0, boom },
			wantWrites: 1, wantText: "the previous version " + oldV + " already serves 100% (d0)"},
		{name: "second write fails: roll back", setup: func(f *fakeDeployer) { f.deployErrAt, f.deployErr = 1, boom },
			wantWrites: 3, wantRolled: true, wantText: "rolled back"},
		{name: "failed write that applied is ours to roll back", setup: func(f *fakeDeployer) { f.deployErrAt, f.deployErr, f.applied = 0, boom, true },
			wantWrites: 2, wantRolled: true, wantText: "rolled back"},
		{name: "rollback fails", setup: func(f *fakeDeployer) {
			f.deployErrAt, f.deployErr, f.applied = 0, boom, true
			f.onDeploy = failRollback(f)
		},
			wantWrites: 2, wantText: "failed to roll back to version " + oldV},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dep := newDeployer(Share{oldV, 100})
			tc.setup(dep)
			out, err := engine(t, Config{Stages: stages(t, "10%@1m, 50%@1m, 100%"), Rollback: true}, dep, newClock()).Run(context.Background())
			require.Error(t, err)
			assert.ErrorIs(t, err, boom)
			assert.Contains(t, err.Error(), tc.wantText)
			assert.Len(t, dep.writes, tc.wantWrites)
			assert.Equal(t, tc.wantRolled, out.RolledBack)
		})
	}
}

// failRollback makes every write of the baseline fail.
func failRollback(f *fakeDeployer) func(context.Context, []Share) {
	return func(_ context.Context, shares []Share) {
		if shares[0].VersionID == oldV {
			f.deployErrAt, f.applied = len(f.writes), false
		}
	}
}

func TestRollbackDisabledOrImpossible(t *testing.T) {
	t.Parallel()
	fail := healthFunc(func(context.Context) error { return errors.New("HTTP 502") })
	t.Run("rollback false", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		out, err := engine(t, Config{Stages: stages(t, "10%@1m, 100%"), Rollback: false, Interval: time.Minute, Health: fail}, dep, newClock()).Run(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "rollback is false: version "+newV+" keeps 10% of traffic")
		assert.Len(t, dep.writes, 1)
		assert.Equal(t, float64(10), out.Percentage)
	})
	t.Run("no previous version", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer()
		out, err := engine(t, Config{Stages: stages(t, "100%@1m"), Rollback: true, Interval: time.Minute, Health: fail}, dep, newClock()).Run(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no previous version to roll back to")
		assert.Len(t, dep.writes, 1)
		assert.False(t, out.RolledBack)
	})
	t.Run("read error before anything", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		dep.liveErr = errors.New("HTTP 403")
		_, err := engine(t, Config{Stages: stages(t, "100%"), Rollback: true}, dep, newClock()).Run(context.Background())
		require.Error(t, err)
		assert.Contains(t, err.Error(), "failed to read the live deployment before the rollout: HTTP 403")
		assert.Empty(t, dep.writes)
	})
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	_, err := New(Config{VersionID: newV, Stages: []Stage{{Percentage: 50}}}, newDeployer(), nil, nopLogger{})
	assert.EqualError(t, err, "failed to start the rollout: the stages must end at 100%")
	_, err = New(Config{VersionID: newV, Stages: DefaultStages, Health: healthy(new(int))}, newDeployer(), nil, nopLogger{})
	assert.EqualError(t, err, "failed to start the rollout: the health-check interval must be positive")
	_, err = New(Config{Stages: DefaultStages}, newDeployer(), nil, nopLogger{})
	assert.Error(t, err)
}

func TestParseNoData(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"fail", "Pass", " hold "} {
		_, err := ParseNoData(s)
		assert.NoError(t, err, s)
	}
	_, err := ParseNoData("skip")
	assert.EqualError(t, err, `"skip" is not a no-data policy; use fail, pass or hold`)
}

// BenchmarkRolloutOverhead measures the engine's own cost for a 3-stage
// rollout with a health and an error-rate gate: holds take no time (fake
// clock) and the API and gates answer at once, so what remains is the
// rollout's overhead.
func BenchmarkRolloutOverhead(b *testing.B) {
	st, _ := ParseStages("10%@5m, 50%@10m, 100%")
	rates := ratesFunc(func(time.Time, time.Time) (Measurement, error) { return Measurement{1000, 1}, nil })
	health := healthFunc(func(context.Context) error { return nil })
	b.ReportAllocs()
	for b.Loop() {
		dep := newDeployer(Share{oldV, 100})
		e, err := New(Config{VersionID: newV, Stages: st, Rollback: true, Interval: 10 * time.Second, Health: health, Rates: rates, MaxErrorRate: 1, MinRequests: 50}, dep, newClock(), nopLogger{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

func TestErrorRateBreachFailsDuringTheHold(t *testing.T) {
	t.Parallel()
	t.Run("a clear breach fails at the first check, not at the end of the hold", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		clock := newClock()
		start := clock.Now()
		rates := ratesFunc(func(time.Time, time.Time) (Measurement, error) { return Measurement{1000, 200}, nil })
		out, err := engine(t, Config{Stages: stages(t, "10%@10m, 100%"), Rollback: true, Interval: time.Minute, Rates: rates, MaxErrorRate: 1, MinRequests: 50}, dep, clock).Run(context.Background())
		require.ErrorIs(t, err, ErrGateFailed)
		assert.Contains(t, err.Error(), "error rate 20.00% (200 errors in 1000 requests) is above max-error-rate 1% during the hold")
		assert.Equal(t, time.Minute, clock.Now().Sub(start), "failed at the first check")
		assert.True(t, out.RolledBack)
		assert.Equal(t, []Share{{oldV, 100}}, dep.writes[len(dep.writes)-1])
	})
	t.Run("checks are spaced by at least 30s whatever the interval", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		calls := 0
		rates := ratesFunc(func(time.Time, time.Time) (Measurement, error) { calls++; return Measurement{1000, 0}, nil })
		_, err := engine(t, Config{Stages: stages(t, "10%@2m, 100%"), Interval: time.Second, Rates: rates, MaxErrorRate: 1, MinRequests: 50}, dep, newClock()).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 4, calls, "at 30s, 60s and 90s during the hold, then the verdict at 2m")
	})
	t.Run("too few requests is no early verdict", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		clock := newClock()
		start := clock.Now()
		rates := ratesFunc(func(time.Time, time.Time) (Measurement, error) { return Measurement{10, 10}, nil })
		_, err := engine(t, Config{Stages: stages(t, "10%@10m, 100%"), Rollback: true, Interval: time.Minute, Rates: rates, MaxErrorRate: 1, MinRequests: 50, NoData: NoDataFail}, dep, clock).Run(context.Background())
		require.ErrorIs(t, err, ErrGateFailed)
		assert.Contains(t, err.Error(), "no data: 10 requests")
		assert.Equal(t, 10*time.Minute, clock.Now().Sub(start), "decided at the end of the hold")
	})
	t.Run("a failed query mid-hold is no verdict", func(t *testing.T) {
		t.Parallel()
		dep := newDeployer(Share{oldV, 100})
		clock := newClock()
		start := clock.Now()
		rates := ratesFunc(func(since, until time.Time) (Measurement, error) {
			if until.Sub(since) < 10*time.Minute {
				return Measurement{}, errors.New("HTTP 503")
			}
			return Measurement{1000, 0}, nil
		})
		_, err := engine(t, Config{Stages: stages(t, "10%@10m, 100%"), Interval: time.Minute, Rates: rates, MaxErrorRate: 1, MinRequests: 50}, dep, clock).Run(context.Background())
		require.NoError(t, err)
		assert.Equal(t, 10*time.Minute, clock.Now().Sub(start))
	})
}

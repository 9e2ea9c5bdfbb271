package rollout

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errUnknown = errors.New("the outcome of the write is unknown")

// The baseline was read before the upload; someone deployed during it: the
// run reads again before its first write and stops without writing.
func TestStaleBaselineChangedStopsWithoutWriting(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	dep.onRead = func(n int) {
		if n == 2 { // during the upload, between the first read and the second
			dep.live = append([]*Deployment{{ID: "human", Source: "dash", Shares: []Share{{othV, 100}}}}, dep.live...)
		}
	}
	out, err := engine(t, Config{Stages: stages(t, "100%"), Rollback: true, StaleBaseline: true}, dep, newClock()).Run(context.Background())
	var ce *ChangedError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, err.Error(), "the live deployment changed during the version upload, before the first write: it was deployment d0")
	assert.Contains(t, err.Error(), "deployment human")
	assert.Empty(t, dep.writes, "nothing written")
	assert.False(t, out.Deployed)
	assert.Zero(t, out.Percentage)
	assert.Equal(t, VerdictCancelled, out.Stages[0].Verdict)
}

// A concurrent run of the same build deployed it during the upload: nothing
// to do.
func TestStaleBaselineNowThisVersionIsAlreadyLive(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	dep.onRead = func(n int) {
		if n == 2 {
			dep.live = append([]*Deployment{{ID: "twin", Source: "api", Shares: []Share{{newV, 100}}}}, dep.live...)
		}
	}
	out, err := engine(t, Config{Stages: stages(t, "50%, 100%"), Rollback: true, StaleBaseline: true}, dep, newClock()).Run(context.Background())
	require.NoError(t, err)
	assert.Empty(t, dep.writes)
	assert.True(t, out.AlreadyLive)
	assert.Equal(t, 100.0, out.Percentage)
}

// An unchanged baseline costs one read and changes nothing.
func TestStaleBaselineUnchanged(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	out, err := engine(t, Config{Stages: stages(t, "100%"), Rollback: true, StaleBaseline: true}, dep, newClock()).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, [][]Share{{{newV, 100}}}, dep.writes)
	assert.Equal(t, 2, dep.reads)
	assert.Equal(t, 100.0, out.Percentage)
}

// An empty answer once the run has written is read again, not taken for
// someone else's change.
func TestEmptyLiveAfterWriteIsReadAgain(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	dep.onDeploy = func(_ context.Context, shares []Share) {
		if len(shares) == 2 {
			dep.mu.Lock()
			dep.empty = 1
			dep.mu.Unlock()
		}
	}
	out, err := engine(t, Config{Stages: stages(t, "50%@1m, 100%"), Rollback: true}, dep, newClock()).Run(context.Background())
	require.NoError(t, err)
	assert.Len(t, dep.writes, 2)
	assert.Equal(t, 100.0, out.Percentage)
}

// A stage write whose outcome is unknown lands late: the rollback waits for
// it (re-reading) and is written after it, so the baseline stays live.
func TestUnknownStageWriteLandingLateIsRolledBackAfter(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	dep.deployErrAt, dep.deployErr = 1, errUnknown
	late := &Deployment{ID: "late", Source: "api", Shares: []Share{{newV, 100}}}
	landed := false
	land := func() {
		if !landed {
			landed = true
			dep.live = append([]*Deployment{late}, dep.live...)
		}
	}
	failedAt := -1
	dep.onRead = func(n int) {
		if failedAt < 0 && len(dep.writes) == 2 {
			failedAt = n
		}
		if failedAt > 0 && n >= failedAt+2 { // two reads after the failed write
			land()
		}
	}
	out, err := engine(t, Config{Stages: stages(t, "50%@1m, 100%"), Rollback: true}, dep, newClock()).Run(context.Background())
	dep.mu.Lock()
	land() // a write in flight lands at some point
	live := dep.live[0]
	dep.mu.Unlock()
	var fe *FailedError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, []Share{{oldV, 100}}, live.Shares, "the rollback came after the late write")
	assert.True(t, out.RolledBack, fe.Rollback)
	assert.Zero(t, out.Percentage)
}

// Someone deploys right after the rollback: the read after it shows that,
// and the outcome says so instead of "rolled back".
func TestRollbackIsConfirmedByReading(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	dep.deployErrAt, dep.deployErr = 1, errUnknown
	dep.onRead = func(int) {
		if len(dep.writes) == 3 && dep.live[0].ID != "human" { // right after the rollback
			dep.live = append([]*Deployment{{ID: "human", Source: "dash", Shares: []Share{{newV, 30}, {othV, 70}}}}, dep.live...)
		}
	}
	out, err := engine(t, Config{Stages: stages(t, "50%@1m, 100%"), Rollback: true, SettleWindow: time.Second}, dep, newClock()).Run(context.Background())
	var fe *FailedError
	require.ErrorAs(t, err, &fe)
	assert.False(t, out.RolledBack)
	assert.Equal(t, 30.0, out.Percentage, "what a read confirmed")
	assert.Contains(t, fe.Rollback, "not rolled back: deployment d2 should be live, but deployment human")
}

// The baseline is restored at once, not after the settle window; a late
// write landing within the window is rolled back again.
func TestRollbackComesFirstAndAgainAfterALateWrite(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	dep.deployErrAt, dep.deployErr = 1, errUnknown
	clock := newClock()
	var rolledAt, failedAt time.Time
	dep.onDeploy = func(_ context.Context, shares []Share) {
		if len(shares) == 1 && shares[0].VersionID == oldV && rolledAt.IsZero() {
			rolledAt = clock.Now()
		}
		if len(shares) == 1 && shares[0].VersionID == newV {
			failedAt = clock.Now()
		}
	}
	landed := false
	dep.onRead = func(int) {
		if !landed && !rolledAt.IsZero() && clock.Now().Sub(rolledAt) >= 500*time.Millisecond {
			landed = true
			dep.live = append([]*Deployment{{ID: "late", Source: "api", Shares: []Share{{newV, 100}}}}, dep.live...)
		}
	}
	out, err := engine(t, Config{Stages: stages(t, "50%@1m, 100%"), Rollback: true}, dep, clock).Run(context.Background())
	var fe *FailedError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, failedAt, rolledAt, "the rollback did not wait")
	require.True(t, landed)
	assert.Equal(t, [][]Share{{{newV, 50}, {oldV, 50}}, {{newV, 100}}, {{oldV, 100}}, {{oldV, 100}}}, dep.writes)
	assert.Equal(t, []Share{{oldV, 100}}, dep.live[0].Shares)
	assert.True(t, out.RolledBack, fe.Rollback)
	assert.Equal(t, dep.live[0].ID, out.DeploymentID)
}

// A write the deployer knows was not applied is not waited for.
func TestRejectedStageWriteIsNotWaitedFor(t *testing.T) {
	t.Parallel()
	dep := newDeployer(Share{oldV, 100})
	dep.deployErrAt, dep.deployErr = 1, fmt.Errorf("%w: HTTP 400", ErrNotApplied)
	clock := newClock()
	start := clock.Now()
	out, err := engine(t, Config{Stages: stages(t, "50%@1m, 100%"), Rollback: true}, dep, clock).Run(context.Background())
	var fe *FailedError
	require.ErrorAs(t, err, &fe)
	assert.True(t, out.RolledBack, fe.Rollback)
	assert.Equal(t, time.Minute, clock.Now().Sub(start), "the hold only, no settle window")
}

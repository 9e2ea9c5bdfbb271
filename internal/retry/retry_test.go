package retry

import (
	"context"
	"errors"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func TestAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ms, secs string
		want     time.Duration
		wantOK   bool
	}{
		{name: "none"},
		{name: "seconds", secs: "3", want: 3 * time.Second, wantOK: true},
		{name: "fractional seconds", secs: "1.5", want: 1500 * time.Millisecond, wantOK: true},
		{name: "milliseconds", ms: "1500", want: 1500 * time.Millisecond, wantOK: true},
		{name: "fractional milliseconds", ms: "0.5", want: 500 * time.Microsecond, wantOK: true},
		{name: "milliseconds win over seconds", ms: "250", secs: "9", want: 250 * time.Millisecond, wantOK: true},
		{name: "bad milliseconds fall back to seconds", ms: "soon", secs: "2", want: 2 * time.Second, wantOK: true},
		{name: "spaces", secs: " 4 ", want: 4 * time.Second, wantOK: true},
		{name: "negative is zero", secs: "-1", want: 0, wantOK: true},
		{name: "huge is capped", secs: "1e308", want: MaxAfter, wantOK: true},
		{name: "infinite is capped", ms: "Inf", want: MaxAfter, wantOK: true},
		{name: "NaN is ignored", ms: "NaN", secs: "NaN"},
		{name: "garbage", secs: "later"},
		{name: "date", secs: "Fri, 01 May 2026 12:00:04 GMT", want: 4 * time.Second, wantOK: true},
		{name: "date in the past", secs: "Fri, 01 May 2026 11:00:00 GMT", want: 0, wantOK: true},
		{name: "date far ahead", secs: "Fri, 01 May 2099 12:00:00 GMT", want: MaxAfter, wantOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tc.ms != "" {
				h.Set("Retry-After-Ms", tc.ms)
			}
			if tc.secs != "" {
				h.Set("Retry-After", tc.secs)
			}
			got, ok := After(h, t0)
			assert.Equal(t, tc.wantOK, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzAfter(f *testing.F) {
	f.Add("", "3")
	f.Add("1500.5", "")
	f.Add("", "Fri, 01 May 2026 12:00:04 GMT")
	f.Add("NaN", "Inf")
	f.Add("-1e308", "1e308")
	f.Add("0x1p4", "1_000")
	f.Fuzz(func(t *testing.T, ms, secs string) {
		h := http.Header{}
		h.Set("Retry-After-Ms", ms)
		h.Set("Retry-After", secs)
		d, ok := After(h, t0)
		if d < 0 || d > MaxAfter {
			t.Fatalf("delay %s out of range for %q/%q", d, ms, secs)
		}
		if !ok && d != 0 {
			t.Fatalf("delay %s without a usable header for %q/%q", d, ms, secs)
		}
	})
}

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := Backoff{Base: 500 * time.Millisecond, Cap: 10 * time.Second}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for n, w := range want {
		assert.Equal(t, w, b.Delay(n), "retry %d", n)
	}
	assert.Equal(t, 10*time.Second, b.Delay(math.MaxInt), "no overflow for a large n")
	assert.Equal(t, 500*time.Millisecond, b.Delay(-1), "a negative n is the first retry")
	assert.Equal(t, time.Duration(0), Backoff{Cap: time.Second}.Delay(math.MaxInt), "a zero base returns at once")

	jitter := []struct {
		name   string
		jitter float64
		rand   func() float64
		want   time.Duration
	}{
		{name: "no rand", jitter: 0.25, want: 2 * time.Second},
		{name: "no jitter", rand: func() float64 { return 0.9 }, want: 2 * time.Second},
		{name: "rand 0", jitter: 0.25, rand: func() float64 { return 0 }, want: 2 * time.Second},
		{name: "rand half", jitter: 0.25, rand: func() float64 { return 0.5 }, want: 1750 * time.Millisecond},
		{name: "rand out of range", jitter: 0.25, rand: func() float64 { return 1 }, want: 2 * time.Second},
		{name: "rand NaN", jitter: 0.25, rand: func() float64 { return math.NaN() }, want: 2 * time.Second},
		{name: "jitter above 1", jitter: 3, rand: func() float64 { return 0.5 }, want: time.Second},
	}
	for _, tc := range jitter {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := b
			b.Jitter, b.Rand = tc.jitter, tc.rand
			assert.Equal(t, tc.want, b.Delay(2))
		})
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	assert.NoError(t, Sleep(context.Background(), 0))
	assert.NoError(t, Sleep(context.Background(), time.Millisecond))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, 0), context.Canceled)
	start := time.Now()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled)
	assert.Less(t, time.Since(start), time.Minute, "a cancelled sleep returns at once")
}

func TestRound(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Duration]time.Duration{
		1234567 * time.Microsecond: 1200 * time.Millisecond,
		12345 * time.Millisecond:   12 * time.Second,
		1234567 * time.Nanosecond:  time.Millisecond,
	} {
		assert.Equal(t, want, Round(in), "%s", in)
	}
}

// clock is a fake clock whose sleeps advance it and are recorded.
type clock struct {
	t      time.Time
	sleeps []time.Duration
	// cancel, when set, is called by the n-th sleep (1-based) instead.
	failAt int
}

func (c *clock) now() time.Time { return c.t }

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	if c.failAt == len(c.sleeps) {
		return context.Canceled
	}
	c.t = c.t.Add(d)
	return ctx.Err()
}

// script returns an Attempt that plays outcomes in order (the last one
// again when they run out), each taking cost on the clock.
func script(c *clock, cost time.Duration, outs ...Outcome) (func(context.Context, time.Time) Outcome, *int) {
	n := 0
	return func(context.Context, time.Time) Outcome {
		c.t = c.t.Add(cost)
		o := outs[min(n, len(outs)-1)]
		n++
		return o
	}, &n
}

var (
	errBoom   = errors.New("boom")
	transient = Outcome{Err: errBoom, Retry: true, What: "HTTP 503"}
	ambiguous = Outcome{Err: errBoom, Retry: true, Unknown: true, What: "HTTP 502"}
	lateWrite = Outcome{Err: errBoom, Retry: true, Unknown: true, Late: true, What: "a timeout"}
	final     = Outcome{Err: errBoom, What: "HTTP 400"}
	ok        = Outcome{}
)

func wait(d time.Duration) Outcome {
	o := transient
	o.Wait, o.HasWait = d, true
	return o
}

func floor(d time.Duration) Outcome {
	o := wait(d)
	o.Floor = true
	return o
}

func policy(c *clock) Policy {
	return Policy{
		MaxAttempts: 5,
		Budget:      30 * time.Second,
		Backoff:     Backoff{Base: time.Second, Cap: 4 * time.Second},
		Sleep:       c.sleep,
		Now:         c.now,
	}
}

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		change       func(*Policy)
		call         func(*Call)
		cost         time.Duration
		outs         []Outcome
		wantStop     Stop
		wantAttempts int
		wantSleeps   []time.Duration
		wantElapsed  time.Duration
	}{
		{name: "first attempt succeeds", outs: []Outcome{ok}, wantStop: Succeeded, wantAttempts: 1},
		{name: "retries with backoff until success", outs: []Outcome{transient, transient, ok},
			wantStop: Succeeded, wantAttempts: 3, wantSleeps: []time.Duration{time.Second, 2 * time.Second}, wantElapsed: 3 * time.Second},
		{name: "not retryable", outs: []Outcome{final}, wantStop: NotRetryable, wantAttempts: 1},
		{name: "maximum of attempts", outs: []Outcome{transient}, wantStop: MaxAttempts, wantAttempts: 5,
			wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}, wantElapsed: 11 * time.Second},
		{name: "the call lowers the maximum", call: func(c *Call) { c.MaxAttempts = 2 }, outs: []Outcome{transient},
			wantStop: MaxAttempts, wantAttempts: 2, wantSleeps: []time.Duration{time.Second}, wantElapsed: time.Second},
		{name: "the call cannot raise the maximum", call: func(c *Call) { c.MaxAttempts = 9 }, outs: []Outcome{transient},
			wantStop: MaxAttempts, wantAttempts: 5, wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}, wantElapsed: 11 * time.Second},
		{name: "the server's wait replaces the backoff", outs: []Outcome{wait(7 * time.Second), ok},
			wantStop: Succeeded, wantAttempts: 2, wantSleeps: []time.Duration{7 * time.Second}, wantElapsed: 7 * time.Second},
		{name: "a zero wait is honoured", outs: []Outcome{wait(0), ok},
			wantStop: Succeeded, wantAttempts: 2, wantSleeps: []time.Duration{0}},
		{name: "a floor only lengthens the backoff", outs: []Outcome{floor(100 * time.Millisecond), floor(5 * time.Second), ok},
			wantStop: Succeeded, wantAttempts: 3, wantSleeps: []time.Duration{time.Second, 5 * time.Second}, wantElapsed: 6 * time.Second},
		{name: "a wait longer than the call allows", call: func(c *Call) { c.MaxWait = 5 * time.Second }, outs: []Outcome{wait(6 * time.Second)},
			wantStop: WaitTooLong, wantAttempts: 1},
		{name: "a wait longer than the budget left", outs: []Outcome{wait(31 * time.Second)},
			wantStop: WaitOverBudget, wantAttempts: 1},
		{name: "the attempts spend the budget", cost: 9 * time.Second, outs: []Outcome{transient},
			wantStop: BudgetSpent, wantAttempts: 3, wantSleeps: []time.Duration{time.Second, 2 * time.Second}, wantElapsed: 30 * time.Second},
		{name: "a backoff that ends exactly at the deadline leaves no time", cost: 29 * time.Second, outs: []Outcome{transient},
			wantStop: BudgetSpent, wantAttempts: 1, wantElapsed: 29 * time.Second},
		{name: "waits only: attempts do not count", change: func(p *Policy) { p.WaitsOnly = true }, cost: time.Minute, outs: []Outcome{transient, ok},
			wantStop: Succeeded, wantAttempts: 2, wantSleeps: []time.Duration{time.Second}, wantElapsed: 2*time.Minute + time.Second},
		{name: "waits only: the waits may use the whole budget", change: func(p *Policy) { p.WaitsOnly = true; p.Budget = 3 * time.Second },
			outs: []Outcome{transient, transient, transient}, wantStop: BudgetSpent, wantAttempts: 3,
			wantSleeps: []time.Duration{time.Second, 2 * time.Second}, wantElapsed: 3 * time.Second},
		{name: "waits only: a server wait over the budget", change: func(p *Policy) { p.WaitsOnly = true }, outs: []Outcome{wait(time.Minute)},
			wantStop: WaitOverBudget, wantAttempts: 1},
		{name: "unknown outcome without a check is never re-sent", outs: []Outcome{ambiguous},
			wantStop: NoCheck, wantAttempts: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: t0}
			p := policy(c)
			if tc.change != nil {
				tc.change(&p)
			}
			attempt, _ := script(c, tc.cost, tc.outs...)
			call := Call{Attempt: attempt}
			if tc.call != nil {
				tc.call(&call)
			}
			r := p.Run(context.Background(), call)
			assert.Equal(t, tc.wantStop, r.Stop)
			assert.Equal(t, tc.wantAttempts, r.Attempts)
			assert.Equal(t, tc.wantSleeps, c.sleeps)
			assert.Equal(t, tc.wantElapsed, r.Elapsed)
			assert.False(t, r.Looked)
		})
	}
}

func TestRunBudgetNestsAndFollowsTheContext(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	p := policy(c)
	var inner Result
	var innerDeadline time.Time
	outer := p.Run(context.Background(), Call{Attempt: func(ctx context.Context, deadline time.Time) Outcome {
		c.t = c.t.Add(20 * time.Second)
		// A call made within the call (a check's read) shares its budget.
		inner = p.Run(ctx, Call{Attempt: func(_ context.Context, d time.Time) Outcome {
			innerDeadline = d
			return Outcome{}
		}})
		assert.Equal(t, t0.Add(30*time.Second), deadline)
		return Outcome{}
	}})
	assert.Equal(t, Succeeded, outer.Stop)
	assert.Equal(t, t0.Add(30*time.Second), innerDeadline)
	assert.Equal(t, 10*time.Second, inner.Budget)

	// A context deadline earlier than the budget shortens it.
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Hour))
	defer cancel()
	real := Policy{MaxAttempts: 1, Budget: 2 * time.Hour}
	r := real.Run(ctx, Call{Attempt: func(_ context.Context, d time.Time) Outcome {
		dl, _ := ctx.Deadline()
		assert.Equal(t, dl, d)
		return Outcome{}
	}})
	assert.InDelta(t, float64(time.Hour), float64(r.Budget), float64(time.Minute))
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	ctx, cancel := context.WithCancel(context.Background())
	checks := 0
	r := policy(c).Run(ctx, Call{
		Attempt: func(context.Context, time.Time) Outcome { cancel(); return ambiguous },
		Check:   func(context.Context) (bool, error) { checks++; return false, nil },
	})
	assert.Equal(t, Canceled, r.Stop)
	assert.Equal(t, 0, checks, "no check after the caller gave up")
	assert.Empty(t, c.sleeps)

	c = &clock{t: t0, failAt: 1}
	r = policy(c).Run(context.Background(), Call{Attempt: func(context.Context, time.Time) Outcome { return transient }})
	assert.Equal(t, SleepFailed, r.Stop)
	assert.ErrorIs(t, r.Err, context.Canceled)
	assert.Equal(t, transient, r.Last)
}

// TestRunLooksBeforeResending covers the unknown-outcome hook: a write that
// may have been applied is looked up before it is sent again.
func TestRunLooksBeforeResending(t *testing.T) {
	t.Parallel()
	errLook := errors.New("lookup failed")
	tests := []struct {
		name string
		// looks are the answers of the check, in order.
		looks        []bool
		lookErr      error
		outs         []Outcome
		settle       time.Duration
		cost         time.Duration
		wantStop     Stop
		wantAttempts int
		wantChecks   int
		wantSleeps   []time.Duration
		wantResends  int
		wantSettles  int
		wantLooked   bool
		wantApplied  bool
	}{
		{name: "not applied: re-sent", looks: []bool{false}, outs: []Outcome{ambiguous, ok},
			wantStop: Succeeded, wantAttempts: 2, wantChecks: 1, wantSleeps: []time.Duration{time.Second}, wantResends: 1},
		{name: "applied: not re-sent", looks: []bool{true}, outs: []Outcome{ambiguous},
			wantStop: Applied, wantAttempts: 1, wantChecks: 1, wantSleeps: []time.Duration{time.Second}},
		{name: "the check fails", lookErr: errLook, outs: []Outcome{ambiguous},
			wantStop: CheckFailed, wantAttempts: 1, wantChecks: 1, wantSleeps: []time.Duration{time.Second}},
		{name: "a transient failure after a look needs no look", looks: []bool{false}, outs: []Outcome{ambiguous, transient, ok},
			wantStop: Succeeded, wantAttempts: 3, wantChecks: 1, wantSleeps: []time.Duration{time.Second, 2 * time.Second}, wantResends: 1},
		{name: "late: the check repeats over the settle window", settle: 3 * time.Second, looks: []bool{false, false, true}, outs: []Outcome{lateWrite},
			wantStop: Applied, wantAttempts: 1, wantChecks: 3, wantSettles: 1,
			wantSleeps: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "late: never found within the window, re-sent", settle: 2 * time.Second, looks: []bool{false}, outs: []Outcome{lateWrite, ok},
			wantStop: Succeeded, wantAttempts: 2, wantChecks: 3, wantSettles: 1, wantResends: 1,
			wantSleeps: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "not late: one look only", settle: 5 * time.Second, looks: []bool{false}, outs: []Outcome{ambiguous, ok},
			wantStop: Succeeded, wantAttempts: 2, wantChecks: 1, wantResends: 1, wantSleeps: []time.Duration{time.Second}},
		{name: "late: the window ends with the budget", settle: 10 * time.Second, cost: 27 * time.Second, looks: []bool{false}, outs: []Outcome{lateWrite, ok},
			wantStop: BudgetSpent, wantAttempts: 1, wantChecks: 3, wantSettles: 1, wantResends: 1,
			wantSleeps: []time.Duration{time.Second, time.Second, time.Second}},
		{name: "out of attempts: a final look finds it", looks: []bool{false, false, false, false, true}, outs: []Outcome{ambiguous},
			wantStop: MaxAttempts, wantAttempts: 5, wantChecks: 5, wantResends: 4, wantLooked: true, wantApplied: true,
			wantSleeps: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 4 * time.Second}},
		{name: "not retryable: a final look", looks: []bool{false}, outs: []Outcome{{Err: errBoom, Unknown: true}},
			wantStop: NotRetryable, wantAttempts: 1, wantChecks: 1, wantLooked: true},
		{name: "a failed final look", lookErr: errLook, outs: []Outcome{{Err: errBoom, Unknown: true}},
			wantStop: NotRetryable, wantAttempts: 1, wantChecks: 1, wantLooked: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &clock{t: t0}
			p := policy(c)
			p.SettleWindow, p.SettleInterval = tc.settle, time.Second
			attempt, _ := script(c, tc.cost, tc.outs...)
			checks, resends, settles := 0, 0, 0
			r := p.Run(context.Background(), Call{
				Attempt: attempt,
				Check: func(context.Context) (bool, error) {
					checks++
					if tc.lookErr != nil {
						return false, tc.lookErr
					}
					return tc.looks[min(checks, len(tc.looks))-1], nil
				},
				OnResend: func() { resends++ },
				OnSettle: func(w time.Duration) { settles++; assert.Equal(t, tc.settle, w) },
			})
			assert.Equal(t, tc.wantStop, r.Stop)
			assert.Equal(t, tc.wantAttempts, r.Attempts)
			assert.Equal(t, tc.wantChecks, checks)
			assert.Equal(t, tc.wantSleeps, c.sleeps)
			assert.Equal(t, tc.wantResends, resends)
			assert.Equal(t, tc.wantSettles, settles)
			assert.Equal(t, tc.wantLooked, r.Looked)
			assert.Equal(t, tc.wantApplied, r.Applied)
			if tc.lookErr != nil {
				if tc.wantLooked {
					assert.ErrorIs(t, r.LookErr, tc.lookErr)
				} else {
					assert.ErrorIs(t, r.Err, tc.lookErr)
				}
			}
		})
	}
}

// TestFinalCheckGetsAFreshBudget: the look after the last attempt may run
// when the call's own budget is spent, so it gets FinalCheckBudget of its own.
func TestFinalCheckGetsAFreshBudget(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	p := policy(c)
	p.SettleWindow, p.SettleInterval, p.FinalCheckBudget = 10*time.Second, time.Second, 4*time.Second
	checks := 0
	r := p.Run(context.Background(), Call{
		Attempt: func(context.Context, time.Time) Outcome { c.t = c.t.Add(31 * time.Second); return lateWrite },
		Check:   func(context.Context) (bool, error) { checks++; return false, nil },
	})
	assert.Equal(t, BudgetSpent, r.Stop)
	require.True(t, r.Looked)
	assert.False(t, r.Applied)
	assert.Equal(t, 5, checks, "one look, then one a second over the 4s final budget")
	assert.Equal(t, []time.Duration{time.Second, time.Second, time.Second, time.Second}, c.sleeps)
}

func TestRunTellsRetries(t *testing.T) {
	t.Parallel()
	c := &clock{t: t0}
	attempt, _ := script(c, 0, transient, wait(3*time.Second), ok)
	type told struct {
		what       string
		next, most int
		wait       time.Duration
	}
	var got []told
	r := policy(c).Run(context.Background(), Call{Attempt: attempt, OnRetry: func(o Outcome, next, most int, wait time.Duration) {
		got = append(got, told{o.What, next, most, wait})
	}})
	assert.Equal(t, Succeeded, r.Stop)
	assert.Equal(t, []told{{"HTTP 503", 2, 5, time.Second}, {"HTTP 503", 3, 5, 3 * time.Second}}, got)
}

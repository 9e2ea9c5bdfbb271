package retry

import (
	"context"
	"time"
)

// Outcome is one failed attempt as the client classified it.
type Outcome struct {
	// Err is the attempt's error; nil means the attempt succeeded.
	Err error
	// Retry: the failure is transient and the call may be tried again.
	Retry bool
	// Unknown: the attempt was a write that may have been applied, so it is
	// sent again only after Call.Check found it was not.
	Unknown bool
	// Late: the attempt got no answer because the client stopped waiting (its
	// timeout): the server may still apply it, so the check is repeated over
	// the settle window before a re-send.
	Late bool
	// Wait is a delay the server asked for (see After); it counts only when
	// HasWait is set. It replaces the backoff, unless Floor is set: then the
	// longer of the two is waited.
	Wait    time.Duration
	HasWait bool
	Floor   bool
	// What describes the failure for log lines ("HTTP 503", "a timeout").
	What string
}

// Stop says why Run stopped.
type Stop int

const (
	// Succeeded: an attempt succeeded.
	Succeeded Stop = iota
	// Canceled: the caller's context ended after an attempt failed.
	Canceled
	// NoCheck: the last attempt's outcome is unknown and the call has no
	// check, so it is never sent again.
	NoCheck
	// NotRetryable: the last failure is not transient.
	NotRetryable
	// MaxAttempts: the last allowed attempt failed.
	MaxAttempts
	// WaitTooLong: the server asked for a wait longer than Call.MaxWait.
	WaitTooLong
	// WaitOverBudget: the server asked for a wait longer than the budget left.
	WaitOverBudget
	// BudgetSpent: the budget left does not cover the next wait, or the wait
	// and the check used it up.
	BudgetSpent
	// SleepFailed: the context ended while waiting to retry (Result.Err).
	SleepFailed
	// Applied: the check made before a re-send found the earlier attempt applied.
	Applied
	// CheckFailed: the check made before a re-send failed (Result.Err).
	CheckFailed
)

// Policy is a client's retry configuration.
type Policy struct {
	// MaxAttempts is the most attempts of one call (at least 1).
	MaxAttempts int
	// Budget bounds a call. By default it is wall-clock time from the start
	// of the call, attempts included, and calls made within a call (the
	// reads of a check) share the outer call's budget through the context.
	// With WaitsOnly it bounds only the sum of the waits between attempts.
	Budget    time.Duration
	WaitsOnly bool
	// Backoff is the delay before a retry when the server asked for none.
	Backoff Backoff
	// SettleWindow is how long the check of a late attempt (Outcome.Late) is
	// repeated, every SettleInterval, before the write is re-sent. 0: once.
	SettleWindow, SettleInterval time.Duration
	// FinalCheckBudget, when positive, bounds the check made after the last
	// attempt of a write failed with an unknown outcome (its own budget may be
	// spent by then); 0 leaves that check unbounded.
	FinalCheckBudget time.Duration
	// Sleep waits between attempts (nil: Sleep); Now is the clock (nil:
	// time.Now). Tests replace both.
	Sleep func(context.Context, time.Duration) error
	Now   func() time.Time
}

// Call is one logical call for Run.
type Call struct {
	// Attempt sends one attempt. deadline is when the call's budget ends
	// (zero with Policy.WaitsOnly): an attempt should not outlive it.
	Attempt func(ctx context.Context, deadline time.Time) Outcome
	// Check looks for the effect of an earlier attempt whose outcome is
	// unknown: applied means it found it. nil: the outcome cannot be looked
	// up, so such an attempt is never sent again.
	Check func(ctx context.Context) (applied bool, err error)
	// MaxAttempts, when positive, lowers Policy.MaxAttempts for this call.
	MaxAttempts int
	// MaxWait, when positive, is the longest wait the server may ask for; a
	// longer one stops the call (WaitTooLong).
	MaxWait time.Duration

	// OnRetry is told before each wait: the failed attempt, the number of the
	// next attempt, the most attempts, and the wait.
	OnRetry func(o Outcome, next, max int, wait time.Duration)
	// OnSettle is told when the check of a late attempt starts repeating.
	OnSettle func(window time.Duration)
	// OnResend is told when a check found the earlier attempt not applied.
	OnResend func()
}

// Result says how a call ended.
type Result struct {
	Stop Stop
	// Last is the last failed attempt (zero when the first one succeeded).
	Last Outcome
	// Attempts is the number of attempts sent; Elapsed the time since the
	// call started when it stopped.
	Attempts int
	Elapsed  time.Duration
	// Budget is the budget the call had (less than Policy.Budget when an
	// outer call or the context left less); Remaining what was left of it
	// when the call stopped.
	Budget, Remaining time.Duration
	// Err is the error of the sleep (SleepFailed) or of the check
	// (CheckFailed).
	Err error

	// Looked: the last attempt's outcome was unknown and the call stopped
	// retrying, so its Check ran once more (the final check). Applied says
	// it found the attempt applied, LookErr that the check failed.
	Looked  bool
	Applied bool
	LookErr error
}

type budgetKey struct{}

// budgetEnd returns the end of the budget of the outermost call running in ctx.
func budgetEnd(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(budgetKey{}).(time.Time)
	return t, ok
}

func (p *Policy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Policy) sleep(ctx context.Context, d time.Duration) error {
	if p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// Run makes the attempts of c under p until one succeeds or the call must
// stop, and says why it stopped.
func (p Policy) Run(ctx context.Context, c Call) Result {
	start := p.now()
	var deadline time.Time
	r := Result{Budget: p.Budget}
	if !p.WaitsOnly {
		end, nested := budgetEnd(ctx)
		if !nested {
			end = start.Add(p.Budget)
			ctx = context.WithValue(ctx, budgetKey{}, end)
		}
		deadline = end
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		r.Budget = min(deadline.Sub(start), p.Budget)
	}
	maxAttempts := p.MaxAttempts
	if c.MaxAttempts > 0 {
		maxAttempts = min(maxAttempts, c.MaxAttempts)
	}
	var waited time.Duration
	stop := func(s Stop) Result {
		r.Stop = s
		if p.WaitsOnly {
			r.Remaining = p.Budget - waited
		} else {
			r.Remaining = deadline.Sub(p.now())
		}
		switch s {
		case NotRetryable, MaxAttempts, WaitTooLong, WaitOverBudget, BudgetSpent:
			p.finalCheck(ctx, c, &r)
		}
		return r
	}
	for attempt := 1; ; attempt++ {
		if attempt > 1 && r.Last.Unknown {
			applied, err := p.settle(ctx, c, r.Last.Late)
			switch {
			case err != nil:
				r.Err = err
				return stop(CheckFailed)
			case applied:
				return stop(Applied)
			}
			r.Last.Unknown = false // looked: it was not applied
			if c.OnResend != nil {
				c.OnResend()
			}
		}
		if attempt > 1 && !p.WaitsOnly && !p.now().Before(deadline) {
			// The wait or the check used up the rest of the budget.
			r.Elapsed = p.now().Sub(start)
			return stop(BudgetSpent)
		}
		o := c.Attempt(ctx, deadline)
		r.Attempts = attempt
		r.Elapsed = p.now().Sub(start)
		if o.Err == nil {
			return stop(Succeeded)
		}
		r.Last = o
		switch {
		case ctx.Err() != nil:
			// The caller gave up: no retry and no check, whatever the outcome.
			return stop(Canceled)
		case o.Unknown && c.Check == nil:
			return stop(NoCheck)
		case !o.Retry:
			return stop(NotRetryable)
		case attempt >= maxAttempts:
			return stop(MaxAttempts)
		}
		remaining := p.Budget - waited
		if !p.WaitsOnly {
			remaining = deadline.Sub(p.now())
		}
		wait := p.Backoff.Delay(attempt - 1)
		if o.HasWait {
			switch {
			case o.Floor:
				wait = max(wait, o.Wait)
			case c.MaxWait > 0 && o.Wait > c.MaxWait:
				return stop(WaitTooLong)
			case o.Wait > remaining:
				return stop(WaitOverBudget)
			default:
				wait = o.Wait
			}
		}
		// With a wall-clock budget the attempt after the wait needs time too;
		// a budget of waits may be used up to the end.
		if wait > remaining || (wait == remaining && !p.WaitsOnly) {
			return stop(BudgetSpent)
		}
		if c.OnRetry != nil {
			c.OnRetry(o, attempt+1, maxAttempts, wait)
		}
		if err := p.sleep(ctx, wait); err != nil {
			r.Err = err
			return stop(SleepFailed)
		}
		waited += wait
	}
}

// settle runs c.Check. After a late attempt the server may still apply the
// request: the check is repeated every SettleInterval until it finds the
// effect or the settle window has passed, so that the write is not sent a
// second time while the first is still in flight. The window is bounded by
// ctx and by the budget of the outermost call.
func (p *Policy) settle(ctx context.Context, c Call, late bool) (bool, error) {
	applied, err := c.Check(ctx)
	if err != nil || applied || !late || p.SettleWindow <= 0 {
		return applied, err
	}
	if c.OnSettle != nil {
		c.OnSettle(p.SettleWindow)
	}
	end := p.now().Add(p.SettleWindow)
	if d, ok := budgetEnd(ctx); ok && d.Before(end) {
		end = d
	}
	interval := p.SettleInterval
	if interval <= 0 {
		interval = time.Second
	}
	for p.now().Before(end) {
		if err := p.sleep(ctx, min(interval, end.Sub(p.now()))); err != nil {
			return false, err
		}
		if applied, err = c.Check(ctx); err != nil || applied {
			return applied, err
		}
	}
	return false, nil
}

// finalCheck looks once more (with the settle window) for the effect of
// the last attempt when its outcome is unknown and the call stopped
// retrying, with a fresh budget of FinalCheckBudget.
func (p *Policy) finalCheck(ctx context.Context, c Call, r *Result) {
	if !r.Last.Unknown || c.Check == nil || ctx.Err() != nil {
		return
	}
	if p.FinalCheckBudget > 0 {
		ctx = context.WithValue(ctx, budgetKey{}, p.now().Add(p.FinalCheckBudget))
	}
	r.Looked = true
	r.Applied, r.LookErr = p.settle(ctx, c, r.Last.Late)
}

package app

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestReportingContext(t *testing.T) {
	t.Parallel()
	t.Run("outlives the run by the grace period", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		rctx, stop := reportingContext(ctx, 200*time.Millisecond)
		defer stop()
		cancel()
		cancelled := time.Now()
		assert.NoError(t, rctx.Err(), "still usable right after the cancellation")
		<-rctx.Done()
		took := time.Since(cancelled)
		assert.GreaterOrEqual(t, took, 150*time.Millisecond)
		assert.Less(t, took, 2*time.Second)
	})
	t.Run("the grace counts from the cancellation", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		rctx, stop := reportingContext(ctx, 300*time.Millisecond)
		defer stop()
		cancel()
		time.Sleep(200 * time.Millisecond) // writing outputs and the summary
		start := time.Now()
		<-rctx.Done()
		assert.Less(t, time.Since(start), 250*time.Millisecond, "only what is left of the grace")
	})
	t.Run("no deadline without a cancellation", func(t *testing.T) {
		t.Parallel()
		rctx, stop := reportingContext(context.Background(), 50*time.Millisecond)
		time.Sleep(150 * time.Millisecond)
		assert.NoError(t, rctx.Err())
		stop()
		assert.Error(t, rctx.Err(), "stop ends it")
	})
}

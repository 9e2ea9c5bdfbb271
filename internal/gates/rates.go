package gates

import (
	"context"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/rollout"
)

// InvocationsAPI is the analytics query the error-rate gate needs;
// *cloudflare.Client satisfies it.
type InvocationsAPI interface {
	WorkerInvocations(ctx context.Context, script string, versions []string, since, until time.Time) (map[string]cloudflare.VersionInvocations, error)
}

var _ InvocationsAPI = (*cloudflare.Client)(nil)

// ErrorRate measures the new version's requests and errors from Cloudflare's
// GraphQL analytics. Create it with NewErrorRate.
type ErrorRate struct {
	api       InvocationsAPI
	script    string
	versionID string
}

var _ rollout.ErrorRates = (*ErrorRate)(nil)

// NewErrorRate returns the gate's measurement for one Worker (by name) and version.
func NewErrorRate(api InvocationsAPI, script, versionID string) *ErrorRate {
	return &ErrorRate{api: api, script: script, versionID: versionID}
}

// Measure returns the version's invocations in [since, until].
func (e *ErrorRate) Measure(ctx context.Context, since, until time.Time) (rollout.Measurement, error) {
	res, err := e.api.WorkerInvocations(ctx, e.script, []string{e.versionID}, since, until)
	if err != nil {
		return rollout.Measurement{}, err
	}
	v := res[e.versionID]
	return rollout.Measurement{Requests: v.Requests, Errors: v.Errors}, nil
}

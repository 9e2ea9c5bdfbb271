package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// SubdomainSettings says whether a Worker is reachable on workers.dev.
type SubdomainSettings struct {
	// Enabled makes the Worker reachable at <name>.<account-subdomain>.workers.dev.
	Enabled bool `json:"enabled"`
	// PreviewsEnabled turns on version preview URLs.
	PreviewsEnabled bool `json:"previews_enabled"`
}

// Worker is the parent resource of versions (docs/workers-api.md §5.1).
type Worker struct {
	// ID is the 32-hex Worker ID.
	ID string `json:"id"`
	// Name is the Worker's name, used by the deployments endpoints.
	Name string `json:"name"`
	// Subdomain holds the workers.dev settings.
	Subdomain SubdomainSettings `json:"subdomain"`
	// CreatedOn is when the Worker was created.
	CreatedOn time.Time `json:"created_on"`
	// UpdatedOn is when the Worker's settings last changed.
	UpdatedOn time.Time `json:"updated_on"`
	// DeployedOn is when the Worker was last deployed; nil if never.
	DeployedOn *time.Time `json:"deployed_on"`
	// Tags are the Worker's tags.
	Tags []string `json:"tags"`
	// Logpush says whether Logpush is on.
	Logpush bool `json:"logpush"`
	// Observability is the observability object as the API returns it.
	Observability json.RawMessage `json:"observability"`
	// TailConsumers are the Workers that receive this Worker's events.
	TailConsumers []TailConsumer `json:"tail_consumers"`
}

// TailConsumer is a Worker that receives another Worker's events.
type TailConsumer struct {
	// Name is the consumer Worker's name.
	Name string `json:"name"`
}

// lacks says which field the action needs is missing from an answer, or "".
func (w *Worker) lacks() string {
	if w.ID == "" || w.Name == "" {
		return "the Worker's id or name"
	}
	return ""
}

// WorkerInput is the body of Create Worker. Unset fields are sent with the
// API's default values.
type WorkerInput struct {
	// Name is required.
	Name string `json:"name"`
	// Subdomain sets the workers.dev settings; nil keeps the defaults.
	Subdomain *SubdomainSettings `json:"subdomain,omitempty"`
	// Tags are the Worker's tags.
	Tags []string `json:"tags,omitempty"`
	// Logpush turns Logpush on or off; nil keeps the default.
	Logpush *bool `json:"logpush,omitempty"`
	// Observability is an observability object in the API's format.
	Observability json.RawMessage `json:"observability,omitempty"`
	// TailConsumers are the Workers that receive this Worker's events.
	TailConsumers []TailConsumer `json:"tail_consumers,omitempty"`
}

// defaultObservability is Cloudflare's default observability object of a new
// Worker (the schema's defaults of its top-level fields).
var defaultObservability = json.RawMessage(`{"enabled":false,"head_sampling_rate":1}`)

// workerCreateBody is the body of Create Worker. Cloudflare's schema lists
// tags, logpush, observability and tail_consumers as required, so fields the
// caller leaves unset are sent with Cloudflare's default values
// (docs/cloudflare-schema.md).
type workerCreateBody struct {
	Name          string             `json:"name"`
	Subdomain     *SubdomainSettings `json:"subdomain,omitempty"`
	Tags          []string           `json:"tags"`
	Logpush       bool               `json:"logpush"`
	Observability json.RawMessage    `json:"observability"`
	TailConsumers []struct{}         `json:"tail_consumers"`
}

func createWorkerBody(in WorkerInput) workerCreateBody {
	b := workerCreateBody{Name: in.Name, Subdomain: in.Subdomain, Tags: in.Tags, Observability: in.Observability, TailConsumers: []struct{}{}}
	if b.Tags == nil {
		b.Tags = []string{}
	}
	if in.Logpush != nil {
		b.Logpush = *in.Logpush
	}
	if len(b.Observability) == 0 {
		b.Observability = defaultObservability
	}
	return b
}

// GetWorker returns a Worker by 32-hex ID or by name. Use IsNotFound on the
// error to detect a missing Worker.
//
// API: GET /accounts/{account_id}/workers/workers/{worker_id} (docs/workers-api.md §4).
func (c *Client) GetWorker(ctx context.Context, idOrName string) (*Worker, error) {
	if idOrName == "" {
		return nil, errors.New("failed to get worker: the worker name or ID is empty")
	}
	var w Worker
	err := c.do(ctx, &call{
		method: http.MethodGet,
		path:   c.accountPath("workers", "workers", idOrName),
		out:    &w,
		valid:  w.lacks,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to get worker %q: %w", idOrName, err)
	}
	return &w, nil
}

// CreateWorker creates a Worker. If a Worker with that name exists already
// (HTTP 409, code 10040, for example created by a concurrent run) it returns
// that Worker instead. After an attempt with an unknown outcome it looks the
// Worker up by name before re-sending.
//
// API: POST /accounts/{account_id}/workers/workers (docs/workers-api.md §4).
func (c *Client) CreateWorker(ctx context.Context, in WorkerInput) (*Worker, error) {
	if in.Name == "" {
		return nil, errors.New("failed to create worker: the name is empty")
	}
	body, err := json.Marshal(createWorkerBody(in))
	if err != nil {
		return nil, fmt.Errorf("failed to create worker %q: observability is not valid JSON: %w", in.Name, err)
	}
	var w Worker
	lookup := func(ctx context.Context) (bool, error) {
		got, err := c.GetWorker(ctx, in.Name)
		if IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		w = *got
		return true, nil
	}
	err = c.do(ctx, &call{
		method: http.MethodPost,
		path:   c.accountPath("workers", "workers"),
		body:   jsonBody(body),
		out:    &w,
		valid:  w.lacks,
		write:  true,
		check:  lookup,
	})
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict && !ae.HasCode(CodeConcurrentModification) {
		// 10040: it exists already, for example created by a parallel run.
		c.logf("worker %q exists already (HTTP 409); reading it", in.Name)
		got, gerr := c.GetWorker(ctx, in.Name)
		if gerr != nil {
			return nil, fmt.Errorf("failed to create worker %q: it exists already but could not be read: %w", in.Name, gerr)
		}
		return got, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to create worker %q: %w", in.Name, err)
	}
	return &w, nil
}

package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Worker Previews and Preview Deployments are beta at Cloudflare: the calls
// below decode only the fields the action needs and ignore the rest, so that
// additions to the API do not break them (docs/previews.md).

// Annotation keys of Preview Deployments besides workers/tag and
// workers/message: the CI context of the deployment.
const (
	AnnotationCommitSHA         = "workers/commit_sha"
	AnnotationPullRequestNumber = "workers/pull_request_number"
	AnnotationPullRequestTitle  = "workers/pull_request_title"
	AnnotationPullRequestURL    = "workers/pull_request_url"
	AnnotationRepositoryURL     = "workers/repository_url"
)

// previewDeploymentsPerPage is the largest page size the schema allows.
const previewDeploymentsPerPage = 100

// Preview is a named preview environment of a Worker.
type Preview struct {
	// ID is the 32-hex Preview ID.
	ID string `json:"id"`
	// Slug is the immutable URL-safe identifier derived from the name.
	Slug string `json:"slug"`
	// Name is the Preview's name, for example pr-42.
	Name string `json:"name"`
	// URLs always serve the Preview's latest deployment.
	URLs []string `json:"urls"`
	// CreatedOn is when the Preview was created.
	CreatedOn time.Time `json:"created_on"`
	// DeployedOn is when it was last deployed; nil if never.
	DeployedOn *time.Time `json:"deployed_on"`
}

// PreviewDeployment is one immutable deployment of a Preview. Its answer has
// a version's shape (docs/previews.md): URLs always reach this deployment, the
// annotations hold the CI ones too, Modules are filled only by
// GetPreviewDeployment with includeModules, and MigrationTag is the Preview's
// Durable Object migration tag after this deployment.
type PreviewDeployment struct {
	Version
}

// AsVersion returns the deployment's content as a Version, for comparing it
// with a build the way versions are compared.
func (d *PreviewDeployment) AsVersion() *Version { return &d.Version }

// GetPreviewDeployment returns one deployment of a Preview: a UUID, a prefix
// of at least 8 characters, or "latest". With includeModules the modules'
// content is returned too.
//
// API: GET /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments/{deployment_id}.
func (c *Client) GetPreviewDeployment(ctx context.Context, worker, preview, id string, includeModules bool) (*PreviewDeployment, error) {
	if id == "" {
		return nil, fmt.Errorf("failed to get deployment of preview %q: the deployment ID is empty", preview)
	}
	var q url.Values
	if includeModules {
		q = url.Values{"include": {"modules"}}
	}
	var d PreviewDeployment
	err := c.do(ctx, &call{method: http.MethodGet, path: c.previewPath(worker, preview, "deployments", id), query: q, out: &d, valid: d.lacks})
	if err != nil {
		return nil, fmt.Errorf("failed to get deployment %q of preview %q of worker %q: %w", id, preview, worker, err)
	}
	return &d, nil
}

// lacks names what a usable answer must carry and this one does not ("" when
// complete): a 2xx answer without it is an unknown outcome, resolved by reading.
func (d *PreviewDeployment) lacks() string {
	if d.ID == "" {
		return "the preview deployment's id"
	}
	return ""
}

// lacks is PreviewDeployment.lacks for a Preview.
func (p *Preview) lacks() string {
	if p.ID == "" || p.Name == "" {
		return "the Preview's id or name"
	}
	return ""
}

// PreviewDeploymentInput is the body of Create Preview Deployment.
type PreviewDeploymentInput struct {
	// MainModule, Modules, CompatibilityDate, CompatibilityFlags, Bindings,
	// Annotations and Assets are as in VersionInput.
	MainModule         string
	Modules            []ModuleUpload
	CompatibilityDate  string
	CompatibilityFlags []string
	Bindings           []json.RawMessage
	Annotations        map[string]string
	Assets             json.RawMessage
	// Limits and Placement are objects in the API's format; nil leaves them out.
	Limits    json.RawMessage
	Placement json.RawMessage
	// CacheOptions is the cache_options object; nil leaves it out.
	CacheOptions json.RawMessage
	// Migrations is the Durable Object migrations object ({old_tag, new_tag,
	// steps}) to apply to the Preview, as in VersionInput; nil for none.
	Migrations json.RawMessage
}

type previewDeploymentMeta struct {
	MainModule         string            `json:"main_module,omitempty"`
	CompatibilityDate  string            `json:"compatibility_date,omitempty"`
	CompatibilityFlags []string          `json:"compatibility_flags,omitempty"`
	Bindings           []json.RawMessage `json:"bindings,omitempty"`
	Annotations        map[string]string `json:"annotations,omitempty"`
	Assets             json.RawMessage   `json:"assets,omitempty"`
	Limits             json.RawMessage   `json:"limits,omitempty"`
	Placement          json.RawMessage   `json:"placement,omitempty"`
	Migrations         json.RawMessage   `json:"migrations,omitempty"`
	CacheOptions       json.RawMessage   `json:"cache_options,omitempty"`
}

func (c *Client) previewPath(worker string, rest ...string) string {
	return c.accountPath(append([]string{"workers", "workers", worker, "previews"}, rest...)...)
}

// PreviewInput is the body of Create Preview. Unset fields get Cloudflare's defaults.
type PreviewInput struct {
	// Name is required, for example pr-42 or feature/login.
	Name string
	// Tags, Logpush, Observability (an object in the API's format) and
	// TailConsumers (Worker names) are the Preview's settings.
	Tags          []string
	Logpush       *bool
	Observability json.RawMessage
	TailConsumers []string
}

// GetPreview returns a Worker's Preview by ID, slug or name. Use IsNotFound
// on the error to detect a missing Preview (or Worker).
//
// API: GET /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}.
func (c *Client) GetPreview(ctx context.Context, worker, preview string) (*Preview, error) {
	if worker == "" || preview == "" {
		return nil, errors.New("failed to get preview: the worker or preview name is empty")
	}
	var p Preview
	err := c.do(ctx, &call{method: http.MethodGet, path: c.previewPath(worker, preview), out: &p, valid: p.lacks})
	if err != nil {
		return nil, fmt.Errorf("failed to get preview %q of worker %q: %w", preview, worker, err)
	}
	return &p, nil
}

// CreatePreview creates the Preview called name. A Preview of that name that
// exists already (HTTP 409, for example made by a parallel run) is returned
// instead; after an attempt with an unknown outcome the Preview is looked up
// by name before anything is re-sent.
//
// API: POST /accounts/{account_id}/workers/workers/{worker_id}/previews.
func (c *Client) CreatePreview(ctx context.Context, worker string, in PreviewInput) (*Preview, error) {
	name := in.Name
	if worker == "" || name == "" {
		return nil, errors.New("failed to create preview: the worker or preview name is empty")
	}
	// The schema requires tags, logpush, observability and tail_consumers;
	// unset ones are sent with Cloudflare's defaults.
	tcs := []map[string]string{}
	for _, tc := range in.TailConsumers {
		tcs = append(tcs, map[string]string{"name": tc})
	}
	body := map[string]any{"name": name, "tags": in.Tags, "logpush": in.Logpush != nil && *in.Logpush,
		"observability": in.Observability, "tail_consumers": tcs}
	if in.Tags == nil {
		body["tags"] = []string{}
	}
	if len(in.Observability) == 0 {
		body["observability"] = defaultObservability
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("failed to create preview %q: observability is not valid JSON: %w", name, err)
	}
	var p Preview
	lookup := func(ctx context.Context) (bool, error) {
		got, err := c.GetPreview(ctx, worker, name)
		if IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		p = *got
		return true, nil
	}
	err = c.do(ctx, &call{
		method: http.MethodPost,
		path:   c.previewPath(worker),
		body:   jsonBody(raw),
		out:    &p,
		valid:  p.lacks,
		write:  true,
		check:  lookup,
	})
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict && !ae.HasCode(CodeConcurrentModification) {
		c.logf("preview %q of worker %q exists already (HTTP 409); reading it", name, worker)
		return c.GetPreview(ctx, worker, name)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to create preview %q of worker %q: %w", name, worker, err)
	}
	return &p, nil
}

// DeletePreview deletes a Preview with its deployments. A Preview that does
// not exist is not an error: deleted reports whether this call removed it.
// After an attempt with an unknown outcome the Preview is looked up: gone
// means done.
//
// API: DELETE /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}.
func (c *Client) DeletePreview(ctx context.Context, worker, preview string) (deleted bool, err error) {
	if worker == "" || preview == "" {
		return false, errors.New("failed to delete preview: the worker or preview name is empty")
	}
	gone := func(ctx context.Context) (bool, error) {
		_, err := c.GetPreview(ctx, worker, preview)
		if IsNotFound(err) {
			return true, nil
		}
		return false, err
	}
	err = c.do(ctx, &call{method: http.MethodDelete, path: c.previewPath(worker, preview), write: true, check: gone})
	if IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("failed to delete preview %q of worker %q: %w", preview, worker, err)
	}
	return true, nil
}

// ListPreviewDeployments returns one page (1-based) of a Preview's
// deployments; 0 leaves page or perPage to the server.
//
// API: GET /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments.
func (c *Client) ListPreviewDeployments(ctx context.Context, worker, preview string, page, perPage int) ([]PreviewDeployment, error) {
	ds, _, err := c.listPreviewDeployments(ctx, worker, preview, page, perPage)
	if err != nil {
		return nil, fmt.Errorf("failed to list deployments of preview %q of worker %q: %w", preview, worker, err)
	}
	return ds, nil
}

func (c *Client) listPreviewDeployments(ctx context.Context, worker, preview string, page, perPage int) ([]PreviewDeployment, resultInfo, error) {
	q := url.Values{}
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	var ds []PreviewDeployment
	var info resultInfo
	err := c.do(ctx, &call{
		method: http.MethodGet,
		path:   c.previewPath(worker, preview, "deployments"),
		query:  q,
		out:    &ds,
		info:   &info,
	})
	return ds, info, err
}

// FindPreviewDeploymentByTag returns the Preview's deployment whose
// workers/tag is tag, or nil, nil when there is none (or no such Preview).
func (c *Client) FindPreviewDeploymentByTag(ctx context.Context, worker, preview, tag string) (*PreviewDeployment, error) {
	if tag == "" {
		return nil, errors.New("failed to find preview deployment: the tag is empty")
	}
	var found *PreviewDeployment
	err := walkPages(previewDeploymentsPerPage,
		func(page int) ([]PreviewDeployment, resultInfo, error) {
			return c.listPreviewDeployments(ctx, worker, preview, page, previewDeploymentsPerPage)
		},
		func(d *PreviewDeployment) string { return d.ID },
		func(ds []PreviewDeployment) bool {
			for i := range ds {
				if ds[i].Tag() == tag {
					found = &ds[i]
					return true
				}
			}
			return false
		})
	if IsNotFound(err) {
		return nil, nil // no such Preview
	}
	if err != nil {
		return nil, fmt.Errorf("failed to find deployment of preview %q with tag %q: %w", preview, tag, err)
	}
	return found, nil
}

// CreatePreviewDeployment deploys code and configuration to a Preview. The
// body is streamed. As with CreateVersion, an attempt with an unknown outcome
// is resolved by looking the deployment up by its workers/tag before anything
// is re-sent; without a tag nothing is re-sent.
//
// API: POST /accounts/{account_id}/workers/workers/{worker_id}/previews/{preview_id}/deployments.
func (c *Client) CreatePreviewDeployment(ctx context.Context, worker, preview string, in PreviewDeploymentInput) (*PreviewDeployment, error) {
	if err := validateVersionInput(VersionInput{MainModule: in.MainModule, Modules: in.Modules}); err != nil {
		return nil, fmt.Errorf("failed to create deployment of preview %q: %w", preview, err)
	}
	// Without bindings the field is left out, so that a Preview starts from
	// the Worker's previews_base_config (Cloudflare's default).
	bindings := in.Bindings
	meta, err := json.Marshal(previewDeploymentMeta{
		MainModule:         in.MainModule,
		CompatibilityDate:  in.CompatibilityDate,
		CompatibilityFlags: in.CompatibilityFlags,
		Bindings:           bindings,
		Annotations:        in.Annotations,
		Assets:             in.Assets,
		Limits:             in.Limits,
		Placement:          in.Placement,
		Migrations:         in.Migrations,
		CacheOptions:       in.CacheOptions,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create deployment of preview %q: bindings, assets, limits, placement or migrations are not valid JSON: %w", preview, err)
	}
	var d PreviewDeployment
	cl := &call{
		method: http.MethodPost,
		path:   c.previewPath(worker, preview, "deployments"),
		body:   &versionBody{meta: meta, modules: in.Modules},
		out:    &d,
		valid:  d.lacks,
		write:  true,
	}
	if tag := in.Annotations[AnnotationTag]; tag != "" {
		cl.check = func(ctx context.Context) (bool, error) {
			found, err := c.FindPreviewDeploymentByTag(ctx, worker, preview, tag)
			if err != nil || found == nil {
				return false, err
			}
			c.logf("found preview deployment %s with tag %q created by an earlier attempt", found.ID, tag)
			d = *found
			return true, nil
		}
	}
	if err := c.do(ctx, cl); err != nil {
		return nil, fmt.Errorf("failed to create deployment of preview %q of worker %q: %w", preview, worker, err)
	}
	return &d, nil
}

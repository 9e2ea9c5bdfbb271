package cloudflare

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Annotation keys of versions and deployments (docs/workers-api.md §6.2).
const (
	// AnnotationTag is the version tag (at most 100 bytes), the action's idempotency key.
	AnnotationTag = "workers/tag"
	// AnnotationMessage is the version or deployment message (cut by the API at 1000 bytes).
	AnnotationMessage = "workers/message"
	// AnnotationTriggeredBy is set by the API: upload, deployment, secret, …
	AnnotationTriggeredBy = "workers/triggered_by"
)

const (
	// versionsPerPage is the page size FindVersionByTag asks for. The maximum
	// is undocumented; the client also copes with a server that returns fewer
	// per page than asked (it trusts result_info.per_page when present).
	versionsPerPage = 100
)

// Annotations are the annotations of a version or deployment. Values that are
// not JSON strings are skipped when decoding, so that schema drift does not
// break a whole response.
type Annotations map[string]string

// UnmarshalJSON implements json.Unmarshaler.
func (a *Annotations) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*a = nil
		return nil
	}
	m := make(Annotations, len(raw))
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) == nil {
			m[k] = s
		}
	}
	*a = m
	return nil
}

// Version is an immutable snapshot of a Worker's code and configuration
// (docs/workers-api.md §6.5).
type Version struct {
	// ID is the version's UUID.
	ID string `json:"id"`
	// Number counts the Worker's versions, starting from 1.
	Number int `json:"number"`
	// CreatedOn is when the version was uploaded.
	CreatedOn time.Time `json:"created_on"`
	// URLs are the preview URLs that always reach this version; empty when previews are off.
	URLs []string `json:"urls"`
	// Annotations holds workers/tag, workers/message and workers/triggered_by.
	Annotations Annotations `json:"annotations"`
	// MainModule is the name of the entry module.
	MainModule string `json:"main_module"`
	// CompatibilityDate is the version's compatibility date, YYYY-MM-DD.
	CompatibilityDate string `json:"compatibility_date"`
	// CompatibilityFlags are the version's compatibility flags.
	CompatibilityFlags []string `json:"compatibility_flags"`
	// Bindings are the version's bindings as the API returns them (secret values omitted).
	Bindings []json.RawMessage `json:"bindings"`
	// Modules are the version's modules, only filled by GetVersion with includeModules.
	Modules []ModuleContent `json:"modules"`
	// Source is the client that created the version, for example "api" or "wrangler".
	Source string `json:"source"`
	// Migrations, Placement, Limits and CacheOptions are the version-level
	// settings as the API returns them (docs/wrangler.md).
	Migrations   json.RawMessage `json:"migrations"`
	Placement    json.RawMessage `json:"placement"`
	Limits       json.RawMessage `json:"limits"`
	CacheOptions json.RawMessage `json:"cache_options"`
	// MigrationTag is set once the version was deployed with migrations.
	MigrationTag string `json:"migration_tag"`
}

// lacks says which field the action needs is missing from an answer, or "".
func (v *Version) lacks() string {
	if v.ID == "" {
		return "the version's id"
	}
	return ""
}

// Tag returns the version's workers/tag annotation.
func (v *Version) Tag() string { return v.Annotations[AnnotationTag] }

// UnmarshalJSON implements json.Unmarshaler. It accepts number as a JSON
// float too (the legacy API sends 1.0-style numbers).
func (v *Version) UnmarshalJSON(b []byte) error {
	type plain Version
	aux := struct {
		*plain
		Number json.Number `json:"number"`
	}{plain: (*plain)(v)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if aux.Number != "" {
		f, err := strconv.ParseFloat(string(aux.Number), 64)
		if err != nil {
			return fmt.Errorf("invalid version number %q: %w", aux.Number, err)
		}
		v.Number = int(f)
	}
	return nil
}

// ModuleContent is a module of a stored version.
type ModuleContent struct {
	// Name is the module's name, its path in the bundle.
	Name string `json:"name"`
	// ContentType is the module's content type, e.g. application/javascript+module.
	ContentType string `json:"content_type"`
	// Content is the module's bytes, decoded from content_base64.
	Content []byte `json:"content_base64"`
}

// ModuleUpload is a module to upload. Open is called once per attempt and its
// content is streamed, never held in memory whole. A reader that fails (for
// example because the file changed on disk) fails the upload without retry.
type ModuleUpload struct {
	// Name is the module's name, its path in the bundle with forward slashes.
	Name string
	// ContentType is the module's content type (docs/workers-api.md §6.4).
	ContentType string
	// Open returns a fresh reader of the module's content.
	Open func() (io.ReadCloser, error)
}

// VersionInput is the body of Create Version (docs/workers-api.md §6.1). Empty fields are left out.
type VersionInput struct {
	// MainModule names the entry module; required when Modules is not empty.
	MainModule string
	// Modules are the modules to upload.
	Modules []ModuleUpload
	// CompatibilityDate is YYYY-MM-DD.
	CompatibilityDate string
	// CompatibilityFlags are compatibility flags such as nodejs_compat.
	CompatibilityFlags []string
	// Bindings are bindings in the API's format. They may hold secret values:
	// the client never logs a request body.
	Bindings []json.RawMessage
	// Annotations holds workers/tag (the idempotency key, at most 100 bytes)
	// and workers/message.
	Annotations map[string]string
	// Assets is the optional assets object {jwt, config}.
	Assets json.RawMessage
	// Migrations is the Durable Object migrations object {old_tag, new_tag,
	// steps}; applied when the version is deployed.
	Migrations json.RawMessage
	// Placement, Limits and CacheOptions are sent as given.
	Placement    json.RawMessage
	Limits       json.RawMessage
	CacheOptions json.RawMessage
}

// versionMeta is every Create Version field but modules.
type versionMeta struct {
	MainModule         string            `json:"main_module,omitempty"`
	CompatibilityDate  string            `json:"compatibility_date,omitempty"`
	CompatibilityFlags []string          `json:"compatibility_flags,omitempty"`
	Bindings           []json.RawMessage `json:"bindings,omitempty"`
	Annotations        map[string]string `json:"annotations,omitempty"`
	Assets             json.RawMessage   `json:"assets,omitempty"`
	Migrations         json.RawMessage   `json:"migrations,omitempty"`
	Placement          json.RawMessage   `json:"placement,omitempty"`
	Limits             json.RawMessage   `json:"limits,omitempty"`
	CacheOptions       json.RawMessage   `json:"cache_options,omitempty"`
}

// ListVersions returns one page of a Worker's versions. page is 1-based and
// perPage the page size; 0 leaves either to the server. A page past the end is empty.
//
// API: GET /accounts/{account_id}/workers/workers/{worker_id}/versions (docs/workers-api.md §4).
func (c *Client) ListVersions(ctx context.Context, worker string, page, perPage int) ([]Version, error) {
	vs, _, err := c.listVersions(ctx, worker, page, perPage)
	if err != nil {
		return nil, fmt.Errorf("failed to list versions of worker %q: %w", worker, err)
	}
	return vs, nil
}

func (c *Client) listVersions(ctx context.Context, worker string, page, perPage int) ([]Version, resultInfo, error) {
	q := url.Values{}
	if page > 0 {
		q.Set("page", strconv.Itoa(page))
	}
	if perPage > 0 {
		q.Set("per_page", strconv.Itoa(perPage))
	}
	var vs []Version
	var info resultInfo
	err := c.do(ctx, &call{
		method: http.MethodGet,
		path:   c.accountPath("workers", "workers", worker, "versions"),
		query:  q,
		out:    &vs,
		info:   &info,
	})
	return vs, info, err
}

// TagLookup is what a search of a Worker's versions for a tag found.
type TagLookup struct {
	// Versions are the versions carrying the tag, oldest (lowest number)
	// first; more than one when concurrent uploads of one build raced.
	Versions []Version
	// Highest is the highest version number seen; when the tag was not found
	// the whole list was read, so it is the Worker's newest version number
	// (0 when the Worker has no versions).
	Highest int
	// Seen are the versions on the pages read (without modules), so a caller
	// that needs one of them (the live version's bindings, for keep-secrets)
	// can take it from here instead of reading it again.
	Seen []Version
}

// FindVersionByTag returns the oldest of the Worker's versions whose
// workers/tag annotation is tag, or nil, nil when there is none. See
// FindVersionsByTag.
func (c *Client) FindVersionByTag(ctx context.Context, worker, tag string) (*Version, error) {
	l, err := c.FindVersionsByTag(ctx, worker, tag)
	if err != nil || len(l.Versions) == 0 {
		return nil, err
	}
	return &l.Versions[0], nil
}

// FindVersionsByTag looks for the Worker's versions whose workers/tag
// annotation is tag. It pages through the versions until the page holding
// the first match, or an empty or short page. The API does not document the
// order of the list; it is inferred to be newest first, so versions uploaded
// with the same tag at about the same time (concurrent runs of one commit)
// sit on the same page: every match on that page is returned.
func (c *Client) FindVersionsByTag(ctx context.Context, worker, tag string) (*TagLookup, error) {
	if tag == "" {
		return nil, errors.New("failed to find version: the tag is empty")
	}
	out := &TagLookup{}
	err := walkPages(versionsPerPage,
		func(page int) ([]Version, resultInfo, error) {
			return c.listVersions(ctx, worker, page, versionsPerPage)
		},
		func(v *Version) string { return v.ID },
		func(vs []Version) bool {
			out.Seen = append(out.Seen, vs...)
			for i := range vs {
				out.Highest = max(out.Highest, vs[i].Number)
				if vs[i].Tag() == tag {
					out.Versions = append(out.Versions, vs[i])
				}
			}
			// Every match on the page holding the first one (concurrent runs).
			return len(out.Versions) > 0
		})
	if err != nil {
		return nil, fmt.Errorf("failed to find version of worker %q with tag %q: %w", worker, tag, err)
	}
	slices.SortStableFunc(out.Versions, func(a, b Version) int { return cmp.Compare(a.Number, b.Number) })
	return out, nil
}

// GetVersion returns one version. versionID is a full UUID, a prefix of at
// least 8 characters, or "latest". With includeModules the modules' content
// is returned too (it can be many MB).
//
// API: GET /accounts/{account_id}/workers/workers/{worker_id}/versions/{version_id} (docs/workers-api.md §4).
func (c *Client) GetVersion(ctx context.Context, worker, versionID string, includeModules bool) (*Version, error) {
	if versionID == "" {
		return nil, fmt.Errorf("failed to get version of worker %q: the version ID is empty", worker)
	}
	var q url.Values
	if includeModules {
		q = url.Values{"include": {"modules"}}
	}
	var v Version
	err := c.do(ctx, &call{
		method: http.MethodGet,
		path:   c.accountPath("workers", "workers", worker, "versions", versionID),
		query:  q,
		out:    &v,
		valid:  v.lacks,
	})
	if err != nil {
		return nil, fmt.Errorf("failed to get version %q of worker %q: %w", versionID, worker, err)
	}
	return &v, nil
}

// CreateVersion uploads a new version of a Worker without deploying it (the
// client never sends ?deploy=true). The body is streamed.
//
// When an attempt fails in a way that leaves its outcome unknown (connection
// lost after the request was sent, attempt timeout, 5xx), the version is
// looked up by its workers/tag annotation before anything is re-sent: if it
// exists, it is returned. A version carrying the tag from before the call is
// taken to be the result too, so callers look the tag up first. Without a tag
// nothing is re-sent and the error wraps ErrUnknownOutcome. A 429 is retried
// as is.
//
// API: POST /accounts/{account_id}/workers/workers/{worker_id}/versions (docs/workers-api.md §4, §6.1).
func (c *Client) CreateVersion(ctx context.Context, worker string, in VersionInput) (*Version, error) {
	if err := validateVersionInput(in); err != nil {
		return nil, fmt.Errorf("failed to create version of worker %q: %w", worker, err)
	}
	meta, err := json.Marshal(versionMeta{
		MainModule:         in.MainModule,
		CompatibilityDate:  in.CompatibilityDate,
		CompatibilityFlags: in.CompatibilityFlags,
		Bindings:           in.Bindings,
		Annotations:        in.Annotations,
		Assets:             in.Assets,
		Migrations:         in.Migrations,
		Placement:          in.Placement,
		Limits:             in.Limits,
		CacheOptions:       in.CacheOptions,
	})
	if err != nil {
		// Only invalid raw JSON in Bindings or Assets gets here.
		return nil, fmt.Errorf("failed to create version of worker %q: bindings or assets are not valid JSON: %w", worker, err)
	}
	var v Version
	cl := &call{
		method: http.MethodPost,
		path:   c.accountPath("workers", "workers", worker, "versions"),
		body:   &versionBody{meta: meta, modules: in.Modules},
		out:    &v,
		valid:  v.lacks,
		write:  true,
	}
	if tag := in.Annotations[AnnotationTag]; tag != "" {
		cl.check = func(ctx context.Context) (bool, error) {
			found, err := c.FindVersionByTag(ctx, worker, tag)
			if err != nil || found == nil {
				return false, err
			}
			c.logf("found version %s with tag %q created by an earlier attempt", found.ID, tag)
			v = *found
			return true, nil
		}
	}
	if err := c.do(ctx, cl); err != nil {
		return nil, fmt.Errorf("failed to create version of worker %q: %w", worker, err)
	}
	return &v, nil
}

// validateVersionInput catches input errors before any request.
func validateVersionInput(in VersionInput) error {
	seen := make(map[string]bool, len(in.Modules))
	for i, m := range in.Modules {
		switch {
		case m.Name == "":
			return fmt.Errorf("module %d has no name", i+1)
		case m.Open == nil:
			return fmt.Errorf("module %q has no content", m.Name)
		case seen[m.Name]:
			return fmt.Errorf("module %q is listed twice", m.Name)
		}
		seen[m.Name] = true
	}
	// An assets-only version may carry the assets' _headers and _redirects without code.
	assetsOnly := in.MainModule == "" && len(in.Modules) <= 2 && !slices.ContainsFunc(in.Modules, func(m ModuleUpload) bool {
		return m.Name != "_headers" && m.Name != "_redirects"
	})
	if len(in.Modules) > 0 && !seen[in.MainModule] && !assetsOnly {
		return fmt.Errorf("main module %q is not one of the %d modules", in.MainModule, len(in.Modules))
	}
	return nil
}

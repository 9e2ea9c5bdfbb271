package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/faultinject"
)

// BasePath is the path prefix under which the emulator serves the API, as Cloudflare does at
// https://api.cloudflare.com/client/v4. Clients get "http://host:port" + BasePath as base URL.
const BasePath = "/client/v4"

// DefaultSubdomain is the account's workers.dev subdomain label when Options.Subdomain is empty
// and Options.NoSubdomain is false.
const DefaultSubdomain = "emulator"

// AuthorEmail is the author_email the emulator puts on every deployment it creates.
const AuthorEmail = "emulator@example.com"

// maxBodyBytes bounds a request body. Cloudflare's own limit depends on the plan (100 MB on
// Free/Pro, see docs/workers-api.md §9); 128 MiB leaves room for base64 overhead.
const maxBodyBytes = 128 << 20

// Options configure a Server. The zero value is usable: any bearer token, any 32-hex account,
// subdomain "emulator", real time.
type Options struct {
	// Token, when set, is the only API token accepted ("Authorization: Bearer <Token>"); any
	// other request gets 403 code 10000. When empty, any non-empty bearer token is accepted.
	Token string
	// AccountID, when set, is the only account served (32 hex characters). When empty, any
	// 32-hex account ID is accepted, each account holding its own Workers.
	AccountID string
	// Subdomain is the account's workers.dev subdomain label ("<Subdomain>.workers.dev").
	// Empty means DefaultSubdomain unless NoSubdomain is set.
	Subdomain string
	// NoSubdomain makes the account have no workers.dev subdomain: GET .../workers/subdomain
	// answers 404 and versions get no preview URLs.
	NoSubdomain bool
	// Now returns the current time for created_on/updated_on/deployed_on. Default time.Now.
	Now func() time.Time
	// Latency delays every request by this much before it is handled (in addition to faults).
	Latency time.Duration
	// Sleep waits for d or until ctx is done, returning ctx.Err() in the latter case. It
	// implements Latency and latency faults; tests may replace it. Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Faults are injected at construction, as if passed to InjectFault in order.
	Faults []Fault
}

// Server is the in-memory Cloudflare API emulator. It is an http.Handler serving the API
// under BasePath, and is safe for concurrent use.
type Server struct {
	token     string
	accountID string
	subdomain string // "" = the account has no workers.dev subdomain
	now       func() time.Time
	latency   time.Duration
	sleep     func(ctx context.Context, d time.Duration) error
	mux       *http.ServeMux
	methods   []string // the methods of the routes, in order of first use

	mu       sync.Mutex // guards accounts and seq
	accounts map[string]*account
	seq      int64
	assets   *assetState // static assets (assets.go), nil until first used

	// analytics holds the GraphQL analytics counts (graphql.go); guarded by mu.
	analytics analyticsState

	faults *faultinject.Injector

	reqMu    sync.Mutex
	requests []RequestRecord
	reqGen   int // bumped by ResetRequests so in-flight requests do not update a stale index
}

var (
	hex32Re    = regexp.MustCompile(`^[0-9a-f]{32}$`)
	dnsLabelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	uuidRe     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// New returns a Server configured by opts. It fails when opts.AccountID is not 32 hex
// characters or opts.Subdomain is not a DNS label.
func New(opts Options) (*Server, error) {
	s := &Server{
		token:    opts.Token,
		now:      opts.Now,
		latency:  opts.Latency,
		sleep:    opts.Sleep,
		accounts: map[string]*account{},
	}
	if opts.AccountID != "" {
		id := strings.ToLower(opts.AccountID)
		if !hex32Re.MatchString(id) {
			return nil, fmt.Errorf("failed to create emulator: account ID %q is not 32 hexadecimal characters", opts.AccountID)
		}
		s.accountID = id
	}
	switch {
	case opts.NoSubdomain:
	case opts.Subdomain == "":
		s.subdomain = DefaultSubdomain
	default:
		if !dnsLabelRe.MatchString(opts.Subdomain) {
			return nil, fmt.Errorf("failed to create emulator: subdomain %q is not a DNS label (lowercase letters, digits and inner dashes, at most 63 characters)", opts.Subdomain)
		}
		s.subdomain = opts.Subdomain
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = faultinject.SleepContext
	}
	if opts.Latency < 0 {
		return nil, fmt.Errorf("failed to create emulator: latency %s is negative", opts.Latency)
	}
	s.buildMux()
	s.faults = s.newInjector()
	for _, f := range opts.Faults {
		s.InjectFault(f)
	}
	return s, nil
}

// ---------------------------------------------------------------------------------------------
// Routing

// authKind says how a route authenticates. Every route but one uses the API token (GraphQL,
// §13, too, although it lives outside /accounts/); the static asset upload (docs/workers-api.md
// §8, POST /accounts/{a}/workers/assets/upload) uses the upload-session JWT instead.
type authKind int

const (
	authAPIToken authKind = iota
	// authAssetUpload routes check the upload-session JWT themselves (assets.go).
	authAssetUpload
)

type handlerFunc func(rc *reqCtx) *reply

type route struct {
	method string
	path   string // after BasePath, in http.ServeMux syntax: "{name}" captures one segment
	auth   authKind
	handle handlerFunc
}

// reqCtx carries one request through a handler.
type reqCtx struct {
	r      *http.Request
	params map[string]string
	query  url.Values
	body   []byte
}

func (s *Server) routes() []route {
	type r = route
	seg := func(p string) string { return p }
	const (
		workers     = "/accounts/{account}/workers/workers"
		worker      = workers + "/{worker}"
		versions    = worker + "/versions"
		version     = versions + "/{version}"
		deployments = "/accounts/{account}/workers/scripts/{script}/deployments"
		deployment  = deployments + "/{deployment}"
		scriptSub   = "/accounts/{account}/workers/scripts/{script}/subdomain"
		accountSub  = "/accounts/{account}/workers/subdomain"
		previews    = worker + "/previews"
		previewOne  = previews + "/{preview}"
		previewDeps = previewOne + "/deployments"
	)
	return []route{
		// https://developers.cloudflare.com/api/resources/workers/subresources/beta/subresources/workers/
		r{method: http.MethodGet, path: seg(workers), handle: s.listWorkers},
		r{method: http.MethodPost, path: seg(workers), handle: s.createWorker},
		r{method: http.MethodGet, path: seg(worker), handle: s.getWorker},
		r{method: http.MethodPut, path: seg(worker), handle: s.updateWorker},
		r{method: http.MethodPatch, path: seg(worker), handle: s.editWorker},
		r{method: http.MethodDelete, path: seg(worker), handle: s.deleteWorker},
		// https://developers.cloudflare.com/api/resources/workers/subresources/beta/subresources/workers/subresources/versions/
		r{method: http.MethodGet, path: seg(versions), handle: s.listVersions},
		r{method: http.MethodPost, path: seg(versions), handle: s.createVersion},
		r{method: http.MethodGet, path: seg(version), handle: s.getVersion},
		r{method: http.MethodDelete, path: seg(version), handle: s.deleteVersion},
		// Previews and Preview Deployments, beta (preview.go)
		r{method: http.MethodGet, path: seg(previews), handle: s.listPreviews},
		r{method: http.MethodPost, path: seg(previews), handle: s.createPreview},
		r{method: http.MethodGet, path: seg(previewOne), handle: s.getPreview},
		r{method: http.MethodPatch, path: seg(previewOne), handle: s.editPreview},
		r{method: http.MethodPut, path: seg(previewOne), handle: s.updatePreview},
		r{method: http.MethodDelete, path: seg(previewOne), handle: s.deletePreview},
		r{method: http.MethodGet, path: seg(previewDeps), handle: s.listPreviewDeployments},
		r{method: http.MethodPost, path: seg(previewDeps), handle: s.createPreviewDeployment},
		r{method: http.MethodPatch, path: seg(previewDeps + "/latest"), handle: s.patchLatestPreviewDeployment},
		r{method: http.MethodGet, path: seg(previewDeps + "/{deployment}"), handle: s.getPreviewDeployment},
		r{method: http.MethodDelete, path: seg(previewDeps + "/{deployment}"), handle: s.deletePreviewDeployment},
		// https://developers.cloudflare.com/api/resources/workers/subresources/scripts/subresources/deployments/
		r{method: http.MethodGet, path: seg(deployments), handle: s.listDeployments},
		r{method: http.MethodPost, path: seg(deployments), handle: s.createDeployment},
		r{method: http.MethodGet, path: seg(deployment), handle: s.getDeployment},
		r{method: http.MethodDelete, path: seg(deployment), handle: s.deleteDeployment},
		// https://developers.cloudflare.com/api/resources/workers/subresources/scripts/subresources/subdomain/
		r{method: http.MethodGet, path: seg(scriptSub), handle: s.getScriptSubdomain},
		r{method: http.MethodPost, path: seg(scriptSub), handle: s.setScriptSubdomain},
		r{method: http.MethodDelete, path: seg(scriptSub), handle: s.deleteScriptSubdomain},
		// https://developers.cloudflare.com/api/resources/workers/subresources/subdomains/
		r{method: http.MethodGet, path: seg(accountSub), handle: s.getAccountSubdomain},
		// https://developers.cloudflare.com/analytics/graphql-api/ (graphql.go)
		r{method: http.MethodPost, path: seg("/graphql"), handle: s.graphql},
		// https://developers.cloudflare.com/workers/static-assets/direct-upload/
		r{method: http.MethodPost, path: seg("/accounts/{account}/workers/scripts/{script}/assets-upload-session"), handle: s.createAssetUploadSession},
		r{method: http.MethodPost, path: seg("/accounts/{account}/workers/assets/upload"), auth: authAssetUpload, handle: s.uploadAssets},
		// https://developers.cloudflare.com/api/resources/workers/subresources/scripts/methods/list/ (resources.go)
		r{method: http.MethodGet, path: seg("/accounts/{account}/workers/scripts"), handle: s.listScripts},
		// https://developers.cloudflare.com/api/resources/d1/subresources/database/
		r{method: http.MethodGet, path: seg("/accounts/{account}/d1/database"), handle: s.listD1},
		r{method: http.MethodPost, path: seg("/accounts/{account}/d1/database"), handle: s.createD1},
		// https://developers.cloudflare.com/api/resources/kv/subresources/namespaces/
		r{method: http.MethodGet, path: seg("/accounts/{account}/storage/kv/namespaces"), handle: s.listKV},
		r{method: http.MethodPost, path: seg("/accounts/{account}/storage/kv/namespaces"), handle: s.createKV},
		// https://developers.cloudflare.com/api/resources/r2/subresources/buckets/
		r{method: http.MethodGet, path: seg("/accounts/{account}/r2/buckets"), handle: s.listR2},
		r{method: http.MethodPost, path: seg("/accounts/{account}/r2/buckets"), handle: s.createR2},
		r{method: http.MethodGet, path: seg("/accounts/{account}/r2/buckets/{bucket}"), handle: s.getR2},
	}
}

// buildMux registers the routes on an http.ServeMux as "METHOD BasePath/path" patterns, and
// a catch-all that answers 404 or 405 in Cloudflare's envelope. The mux matches the path
// segment by segment after unescaping each, so an identifier may be a URL-encoded name with
// "/" in it (a Preview named feature/x).
func (s *Server) buildMux() {
	s.mux = http.NewServeMux()
	for _, rt := range s.routes() {
		if !slices.Contains(s.methods, rt.method) {
			s.methods = append(s.methods, rt.method)
		}
		var names []string
		for _, seg := range strings.Split(rt.path, "/") {
			if name, ok := strings.CutPrefix(seg, "{"); ok {
				names = append(names, strings.TrimSuffix(name, "}"))
			}
		}
		s.mux.HandleFunc(rt.method+" "+BasePath+rt.path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method != rt.method { // a GET pattern matches HEAD too; this API does not
				s.notRouted(r).write(w)
				return
			}
			params := map[string]string{}
			for _, n := range names {
				params[n] = r.PathValue(n)
			}
			s.serveRoute(r, rt, params).write(w)
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.notRouted(r).write(w)
	})
}

// notRouted answers a request no route takes: 405 with Allow when routes serve the path with
// other methods, else 404.
func (s *Server) notRouted(r *http.Request) *reply {
	var allowed []string
	for _, m := range s.methods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) == 0 {
		return routeNotFound()
	}
	// Cloudflare's 405 body is not documented; code 7001 is what its edge uses for
	// "method not allowed" (inferred).
	rep := fail(http.StatusMethodNotAllowed, 7001, "Method %s not allowed for this route", r.Method)
	rep.header = http.Header{"Allow": {strings.Join(allowed, ", ")}}
	return rep
}

// apiPath returns the request path after BasePath and whether the request is under BasePath.
func apiPath(r *http.Request) (string, bool) {
	p := r.URL.Path
	if p == BasePath {
		return "/", true
	}
	if rest, ok := strings.CutPrefix(p, BasePath+"/"); ok {
		return "/" + rest, true
	}
	return p, false
}

// ServeHTTP implements http.Handler: it records the request, applies Options.Latency and the
// first matching fault, then serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	idx, gen := s.recordArrival(r)
	// Read the body before anything else: net/http notices a client that went away (and
	// cancels r.Context(), ending injected latency) only once the body has been consumed.
	if r.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	if s.latency > 0 {
		if err := s.sleep(r.Context(), s.latency); err != nil {
			s.recordResult(idx, gen, 0, "")
			return
		}
	}
	s.faults.Serve(w, r, http.HandlerFunc(s.serveAPI), func(status int, fault string) {
		s.recordResult(idx, gen, status, fault)
	})
}

// serveAPI routes, authenticates and handles one request. A trailing "/" is ignored; a path
// that is not clean (an empty, "." or ".." segment) is not routed rather than redirected.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	esc := r.URL.EscapedPath()
	if trimmed := strings.TrimSuffix(esc, "/"); trimmed != esc {
		u := *r.URL
		u.Path = strings.TrimSuffix(u.Path, "/")
		u.RawPath = strings.TrimSuffix(u.RawPath, "/")
		r2 := *r
		r2.URL = &u
		r, esc = &r2, trimmed
	}
	if esc == "" || path.Clean(esc) != esc {
		routeNotFound().write(w)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// serveRoute authenticates a request the mux routed to rt and handles it.
func (s *Server) serveRoute(r *http.Request, rt route, params map[string]string) *reply {
	if rep := s.authenticate(r, rt.auth); rep != nil {
		return rep
	}
	if acct, ok := params["account"]; ok {
		if rep := s.checkAccount(r, acct); rep != nil {
			return rep
		}
		params["account"] = strings.ToLower(acct)
	}
	rc := &reqCtx{r: r, params: params, query: r.URL.Query()}
	if r.Body != nil && r.Method != http.MethodGet && r.Method != http.MethodDelete {
		body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
		if err != nil {
			return fail(http.StatusRequestEntityTooLarge, 10026, "Could not read the request body: it is larger than %d bytes or the connection failed", maxBodyBytes)
		}
		rc.body = body
	}
	return rt.handle(rc)
}

// routeNotFound is the answer for paths the emulator does not serve. Cloudflare answers unknown
// routes with code 7000 "No route for that URI"; the 404 status is inferred.
func routeNotFound() *reply {
	return fail(http.StatusNotFound, 7000, "No route for that URI")
}

func (s *Server) authenticate(r *http.Request, kind authKind) *reply {
	switch kind {
	case authAssetUpload:
		return nil // the handler checks the upload token
	case authAPIToken:
		tok, found := bearerToken(r)
		// Only API tokens are emulated; the legacy X-Auth-Email/X-Auth-Key pair is refused.
		if !found {
			return fail(http.StatusForbidden, 10000, "Authentication error")
		}
		if s.token != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
			return fail(http.StatusForbidden, 10000, "Authentication error")
		}
	}
	return nil
}

// bearerToken returns the token of an "Authorization: Bearer <token>" header, and false
// when there is none.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	tok = strings.TrimSpace(tok)
	return tok, strings.EqualFold(scheme, "Bearer") && tok != ""
}

func (s *Server) checkAccount(r *http.Request, acct string) *reply {
	id := strings.ToLower(acct)
	if s.accountID != "" {
		// A token without access to the account gets the same 403 code 10000 as a bad token
		// from Cloudflare; a 404 would suggest the account does not exist at all.
		if id != s.accountID {
			return fail(http.StatusForbidden, 10000, "Authentication error")
		}
		return nil
	}
	if !hex32Re.MatchString(id) {
		// Cloudflare's router rejects malformed object identifiers before any handler runs,
		// with 7003 followed by 7000; we answer 400 like it does (status inferred from real
		// responses, not documented).
		path, _ := apiPath(r)
		rep := fail(http.StatusBadRequest, 7003, "Could not route to %s, perhaps your object identifier is invalid?", path)
		rep.env.Errors = append(rep.env.Errors, apiMessage{Code: 7000, Message: "No route for that URI"})
		return rep
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// Envelopes

type apiMessage struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type resultInfo struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	Count      int `json:"count"`
	TotalCount int `json:"total_count"`
	TotalPages int `json:"total_pages"`
}

// envelope is the v4 response envelope (docs/workers-api.md §3.1/§3.2).
type envelope struct {
	Success    bool         `json:"success"`
	Errors     []apiMessage `json:"errors"`
	Messages   []apiMessage `json:"messages"`
	Result     any          `json:"result"`
	ResultInfo *resultInfo  `json:"result_info,omitempty"`
}

type reply struct {
	status int
	header http.Header
	env    envelope
	// raw, when set, is written instead of env (GraphQL answers are not envelopes).
	raw any
}

func ok(result any) *reply {
	return &reply{status: http.StatusOK, env: envelope{Success: true, Errors: []apiMessage{}, Messages: []apiMessage{}, Result: result}}
}

func okList(result any, info resultInfo) *reply {
	rep := ok(result)
	rep.env.ResultInfo = &info
	return rep
}

func fail(status, code int, format string, args ...any) *reply {
	return &reply{status: status, env: envelope{
		Errors:   []apiMessage{{Code: code, Message: fmt.Sprintf(format, args...)}},
		Messages: []apiMessage{},
	}}
}

func (rep *reply) write(w http.ResponseWriter) int {
	var body []byte
	var err error
	if rep.raw != nil {
		body, err = json.Marshal(rep.raw)
	} else {
		body, err = json.Marshal(rep.env)
	}
	status := rep.status
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(fail(status, 10002, "Internal error: failed to encode the response").env)
	}
	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
	return status
}

// malformedBody is the answer to a request body that is not the expected JSON (code 10026).
func malformedBody(err error) *reply {
	return fail(http.StatusBadRequest, 10026, "Could not parse request body: %v", err)
}

// validationError is the catch-all validation failure, code 10021.
func validationError(format string, args ...any) *reply {
	return fail(http.StatusBadRequest, 10021, format, args...)
}

func decodeBody(body []byte, v any) *reply {
	if len(strings.TrimSpace(string(body))) == 0 {
		return malformedBody(fmt.Errorf("empty body, want a JSON object"))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return malformedBody(err)
	}
	return nil
}

// ---------------------------------------------------------------------------------------------
// Pagination

// Default and maximum page sizes. The reference example shows per_page 20, so 20 is the
// default (inferred); the maximum is undocumented, so larger requests are capped at 100
// (inferred) rather than rejected.
const (
	defaultPerPage = 20
	maxPerPage     = 100
)

func parsePaging(q url.Values) (page, perPage int, rep *reply) {
	page, perPage = 1, defaultPerPage
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, fail(http.StatusBadRequest, 10004, "Invalid page %q: want a positive integer", v)
		}
		page = max(n, 1)
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, 0, fail(http.StatusBadRequest, 10004, "Invalid per_page %q: want a positive integer", v)
		}
		if n >= 1 {
			perPage = min(n, maxPerPage)
		}
	}
	return page, perPage, nil
}

// paginate returns the page-th page (1-based) of items, never nil: pages past the end are
// empty, which is what stops the SDK's auto-pager (docs/workers-api.md §3.4).
func paginate[T any](items []T, page, perPage int) ([]T, resultInfo) {
	total := len(items)
	info := resultInfo{Page: page, PerPage: perPage, TotalCount: total, TotalPages: (total + perPage - 1) / perPage}
	start := (page - 1) * perPage
	if page > 0 && start/perPage != page-1 { // overflow guard for huge page numbers
		start = total
	}
	out := []T{}
	if start < total {
		out = append(out, items[start:min(start+perPage, total)]...)
	}
	info.Count = len(out)
	return out, info
}

func parseBoolQuery(q url.Values, key string) (bool, *reply) {
	v := q.Get(key)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fail(http.StatusBadRequest, 10004, "Invalid %s %q: want true or false", key, v)
	}
	return b, nil
}

// ---------------------------------------------------------------------------------------------
// IDs and times

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return b
}

// newWorkerID returns a Worker ID: 32 lowercase hex characters.
func newWorkerID() string { return hex.EncodeToString(randomBytes(16)) }

// newUUID returns a random (version 4) UUID in the dashed form used for versions and deployments.
func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// nextSeq returns a monotonically increasing number that orders objects created within the
// same clock tick. Callers hold s.mu.
func (s *Server) nextSeq() int64 {
	s.seq++
	return s.seq
}

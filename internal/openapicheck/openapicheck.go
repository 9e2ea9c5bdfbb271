// Package openapicheck validates Cloudflare API traffic against Cloudflare's published OpenAPI
// files (testdata/openapi). It is used by tests only: an http.RoundTripper that checks every
// request a client sends and every response a server gives back, so that the client and the
// emulator are held to the same published schema. The action's binary never links it.
//
// The published files need four adjustments before they can judge real traffic; each is made
// on the loaded document, never in the files (see testdata/openapi/SOURCE.md):
//
//   - readOnly and writeOnly are mere annotations under JSON Schema 2020-12, which the files
//     declare (openapi 3.2.0), so a readOnly property listed in `required` would make every
//     request fail. Requests are checked against a copy without readOnly properties in
//     `required`, responses against a copy without writeOnly ones.
//   - the asset upload's security scheme assets_jwt is referenced but not declared; it is
//     declared here as a bearer token.
//   - a `json` binding's value is typed as an object, but Cloudflare and wrangler accept any
//     JSON value (a string, a number, an array); the type is dropped.
//   - the Worker create/get and the version create/list operations are placeholders of the
//     repository that split the definition per tag; they are replaced by operations built from
//     Cloudflare's own components (workers_Worker, workers_Version) in overlay.yaml.
package openapicheck

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"go.yaml.in/yaml/v3"
)

//go:embed overlay.yaml
var overlayYAML []byte

// APIPrefix is the path prefix of Cloudflare's API (the files' server URL path).
const APIPrefix = "/client/v4"

// Dir returns testdata/openapi of this repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "testdata", "openapi")
}

var (
	defaultOnce    sync.Once
	defaultChecker *Checker
	defaultErr     error
)

// Default returns the Checker of Dir, loaded once per test binary (loading takes a second).
func Default() (*Checker, error) {
	defaultOnce.Do(func() { defaultChecker, defaultErr = Load(Dir()) })
	return defaultChecker, defaultErr
}

// Checker holds the loaded documents, one copy for requests and one for responses.
type Checker struct {
	files []*file
}

type file struct {
	name      string
	req, resp *openapi3.T
}

// Load reads every *.yml in dir, applies the adjustments of the package documentation and
// validates the resulting documents.
func Load(dir string) (*Checker, error) {
	var overlay map[string]map[string]any
	if err := yaml.Unmarshal(overlayYAML, &overlay); err != nil {
		return nil, fmt.Errorf("overlay.yaml: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("no OpenAPI files in %s", dir)
	}
	sort.Strings(names)
	c := &Checker{}
	for _, name := range names {
		raw, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		f := &file{name: filepath.Base(name)}
		// Parse the YAML once; each copy is decoded from JSON, which is much faster.
		var parsed map[string]any
		if err := yaml.Unmarshal(raw, &parsed); err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		asJSON, err := json.Marshal(parsed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		for _, drop := range []string{"readOnly", "writeOnly"} {
			var doc map[string]any
			if err := json.Unmarshal(asJSON, &doc); err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			adjust(doc, overlay[f.name], drop)
			data, err := json.Marshal(doc)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			loader := openapi3.NewLoader()
			t, err := loader.LoadFromData(data)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			if err := t.Validate(loader.Context, openapi3.DisableExamplesValidation()); err != nil {
				return nil, fmt.Errorf("%s after adjustment: %w", f.name, err)
			}
			if drop == "readOnly" {
				f.req = t
			} else {
				f.resp = t
			}
		}
		c.files = append(c.files, f)
	}
	return c, nil
}

// adjust applies the adjustments to one parsed file. drop is the annotation whose properties
// leave `required` lists ("readOnly" for the request copy, "writeOnly" for the response copy).
func adjust(doc map[string]any, overlay map[string]any, drop string) {
	comps, _ := doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	paths, _ := doc["paths"].(map[string]any)
	for p, ops := range overlay {
		item, _ := paths[p].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[p] = item
		}
		for method, op := range ops.(map[string]any) {
			item[method] = op
		}
	}
	if sec, ok := comps["securitySchemes"].(map[string]any); ok {
		if _, declared := sec["assets_jwt"]; !declared {
			sec["assets_jwt"] = map[string]any{"type": "http", "scheme": "bearer"}
		}
	}
	if j, ok := schemas["workers_binding_kind_json"].(map[string]any); ok {
		if props, ok := j["properties"].(map[string]any); ok {
			if v, ok := props["json"].(map[string]any); ok {
				delete(v, "type")
			}
		}
	}
	var walk func(v any)
	walk = func(v any) {
		switch n := v.(type) {
		case map[string]any:
			dropRequired(n, schemas, drop)
			for _, c := range n {
				walk(c)
			}
		case []any:
			for _, c := range n {
				walk(c)
			}
		}
	}
	walk(doc)
}

// dropRequired removes from n's `required` the properties annotated with drop.
func dropRequired(n map[string]any, schemas map[string]any, drop string) {
	req, ok := n["required"].([]any)
	props, ok2 := n["properties"].(map[string]any)
	if !ok || !ok2 {
		return
	}
	kept := req[:0:0]
	for _, r := range req {
		name, _ := r.(string)
		if !hasAnnotation(props[name], schemas, drop, 0) {
			kept = append(kept, r)
		}
	}
	n["required"] = kept
}

func hasAnnotation(v any, schemas map[string]any, drop string, depth int) bool {
	m, ok := v.(map[string]any)
	if !ok || depth > 8 {
		return false
	}
	if b, _ := m[drop].(bool); b {
		return true
	}
	if ref, ok := m["$ref"].(string); ok {
		if name, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok {
			return hasAnnotation(schemas[name], schemas, drop, depth+1)
		}
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if list, ok := m[k].([]any); ok {
			for _, e := range list {
				if hasAnnotation(e, schemas, drop, depth+1) {
					return true
				}
			}
		}
	}
	return false
}

// Operation names the documented operation that matches method and path (after APIPrefix), or
// returns an error when no file documents it.
func (c *Checker) route(method, escapedPath string, forResponse bool) (*routers.Route, map[string]string, error) {
	path := escapedPath
	segs := strings.Split(strings.Trim(escapedPath, "/"), "/")
	for i, s := range segs {
		if d, err := url.PathUnescape(s); err == nil {
			segs[i] = d
		}
	}
	var best *routers.Route
	var bestParams map[string]string
	bestScore := -1
	for _, f := range c.files {
		doc := f.req
		if forResponse {
			doc = f.resp
		}
		for tmpl, item := range doc.Paths.Map() {
			params, score, ok := matchTemplate(tmpl, segs)
			if !ok || score <= bestScore {
				continue
			}
			op := item.GetOperation(method)
			if op == nil {
				continue
			}
			best = &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}
			bestParams, bestScore = params, score
		}
	}
	if best == nil {
		return nil, nil, fmt.Errorf("%s %s is not documented in any OpenAPI file", method, path)
	}
	return best, bestParams, nil
}

// matchTemplate matches path segments against an OpenAPI path template. The score is the
// number of literal segments, so /versions/latest wins over /versions/{version_id}.
func matchTemplate(tmpl string, segs []string) (map[string]string, int, bool) {
	parts := strings.Split(strings.Trim(tmpl, "/"), "/")
	if len(parts) != len(segs) {
		return nil, 0, false
	}
	params := map[string]string{}
	score := 0
	for i, p := range parts {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			if segs[i] == "" {
				return nil, 0, false
			}
			params[p[1:len(p)-1]] = segs[i]
			continue
		}
		if p != segs[i] {
			return nil, 0, false
		}
		score++
	}
	return params, score, true
}

func options() *openapi3filter.Options {
	return &openapi3filter.Options{
		MultiError:          true,
		SkipSettingDefaults: true,
		AuthenticationFunc:  authenticate,
	}
}

// authenticate accepts the bearer-token schemes when the request has a bearer token; the
// e-mail/key pair and service keys are never used by the action.
func authenticate(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	if s.Type == "http" && strings.EqualFold(s.Scheme, "bearer") || in.SecuritySchemeName == "api_token" {
		auth := in.RequestValidationInput.Request.Header.Get("Authorization")
		if strings.HasPrefix(auth, "Bearer ") && len(auth) > len("Bearer ") {
			return nil
		}
		return errors.New("no bearer token")
	}
	return fmt.Errorf("scheme %s is not used", in.SecuritySchemeName)
}

// Exchange is one request/response pair seen by the Transport.
type Exchange struct {
	Method, Path string
	Status       int
	// Operation is the documented path template of the exchange.
	Operation string
	// RequestErr and ResponseErr are the validation failures, nil when the exchange conforms.
	RequestErr, ResponseErr error
}

// Transport validates requests and responses passing through Base.
type Transport struct {
	Checker *Checker
	Base    http.RoundTripper

	mu        sync.Mutex
	exchanges []Exchange
}

// Exchanges returns what the Transport has seen so far.
func (t *Transport) Exchanges() []Exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Exchange(nil), t.exchanges...)
}

// Errors returns one line per validation failure.
func (t *Transport) Errors() []string {
	var out []string
	for _, e := range t.Exchanges() {
		if e.RequestErr != nil {
			out = append(out, fmt.Sprintf("request %s %s: %v", e.Method, e.Path, e.RequestErr))
		}
		if e.ResponseErr != nil {
			out = append(out, fmt.Sprintf("response %d to %s %s: %v", e.Status, e.Method, e.Path, e.ResponseErr))
		}
	}
	return out
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	path, _ := strings.CutPrefix(req.URL.Path, APIPrefix)
	ex := Exchange{Method: req.Method, Path: path}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	ex.RequestErr = t.Checker.CheckRequest(req, body)
	res, err := base.RoundTrip(req)
	if err != nil {
		t.add(ex)
		return nil, err
	}
	resBody, rerr := io.ReadAll(res.Body)
	_ = res.Body.Close()
	res.Body = io.NopCloser(bytes.NewReader(resBody))
	if rerr != nil {
		t.add(ex)
		return res, nil
	}
	ex.Status = res.StatusCode
	ex.Operation, ex.ResponseErr = t.Checker.CheckResponse(req, body, res.StatusCode, res.Header, resBody)
	t.add(ex)
	return res, nil
}

func (t *Transport) add(e Exchange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.exchanges = append(t.exchanges, e)
}

func cloneWithBody(req *http.Request, body []byte) *http.Request {
	r := req.Clone(context.Background())
	esc, _ := strings.CutPrefix(req.URL.EscapedPath(), APIPrefix)
	r.URL.Path, _ = url.PathUnescape(esc)
	r.URL.RawPath = esc
	r.Body = io.NopCloser(bytes.NewReader(body))
	if body == nil {
		r.Body = http.NoBody
	}
	return r
}

// CheckRequest validates a request whose body is body.
func (c *Checker) CheckRequest(req *http.Request, body []byte) error {
	r := cloneWithBody(req, body)
	route, params, err := c.route(r.Method, r.URL.EscapedPath(), false)
	if err != nil {
		return err
	}
	opts := options()
	mt, mtParams, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if mt == "multipart/form-data" {
		// kin-openapi looks a part up among the properties of additionalProperties rather
		// than applying additionalProperties to it, so it rejects the asset upload's parts
		// (named by hash). The body is checked here instead: the parts become an object of
		// strings, validated against the body schema.
		opts.ExcludeRequestBody = true
	}
	err = openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: r, PathParams: params, Route: route, Options: opts,
	})
	if err != nil || mt != "multipart/form-data" {
		return err
	}
	return checkMultipart(route, body, mtParams["boundary"])
}

// checkMultipart validates a multipart body as an object of its parts' text.
func checkMultipart(route *routers.Route, body []byte, boundary string) error {
	rb := route.Operation.RequestBody
	if rb == nil || rb.Value == nil || rb.Value.Content.Get("multipart/form-data") == nil {
		return errors.New("the operation takes no multipart/form-data body")
	}
	obj := map[string]any{}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("multipart body: %w", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return fmt.Errorf("multipart body: %w", err)
		}
		obj[p.FormName()] = string(data)
	}
	schema := rb.Value.Content.Get("multipart/form-data").Schema.Value
	if err := schema.VisitJSON(obj, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("multipart body: %w", err)
	}
	return nil
}

// CheckResponse validates a response to req (whose body was reqBody). It returns the matched
// path template too.
func (c *Checker) CheckResponse(req *http.Request, reqBody []byte, status int, h http.Header, body []byte) (string, error) {
	r := cloneWithBody(req, reqBody)
	route, params, err := c.route(r.Method, r.URL.EscapedPath(), true)
	if err != nil {
		return "", err
	}
	opts := options()
	opts.IncludeResponseStatus = true
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route, Options: opts},
		Status:                 status,
		Header:                 h,
		Options:                opts,
	}
	in.SetBodyBytes(body)
	return route.Method + " " + route.Path, openapi3filter.ValidateResponse(context.Background(), in)
}

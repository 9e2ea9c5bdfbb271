package cloudflare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postMode says how the fake answers one POST …/versions.
type postMode int

const (
	applyOK           postMode = iota // store the version, answer 200
	applyThenHangUp                   // store it, then drop the connection
	hangUpBeforeApply                 // read the body, drop the connection, store nothing
	applyThen503                      // store it, then answer 503
	reply503                          // store nothing, answer 503
	reply429                          // store nothing, answer 429
)

// uploadedModule is a module as the fake decoded it from the request.
type uploadedModule struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Content     []byte `json:"content_base64"`
}

// uploadedVersion is a Create Version body as the fake decoded it.
type uploadedVersion struct {
	MainModule         string            `json:"main_module"`
	CompatibilityDate  string            `json:"compatibility_date"`
	CompatibilityFlags []string          `json:"compatibility_flags"`
	Bindings           []json.RawMessage `json:"bindings"`
	Annotations        map[string]string `json:"annotations"`
	Modules            []uploadedModule  `json:"modules"`
}

// fakeVersions serves the versions of one Worker "w", newest first, with
// faults chosen per POST.
type fakeVersions struct {
	t        *testing.T
	mu       sync.Mutex
	versions []map[string]any // newest first
	bodies   []uploadedVersion
	posts    int
	lists    int
	// modes[i] is the behaviour of POST number i (the last one repeats).
	modes []postMode
	// maxPerPage caps per_page like a server with a lower limit (0: none).
	maxPerPage int
}

func (f *fakeVersions) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /accounts/acc/workers/workers/w/versions", f.create)
	mux.HandleFunc("GET /accounts/acc/workers/workers/w/versions", f.list)
	return mux
}

func (f *fakeVersions) add(tag string) map[string]any {
	n := len(f.versions) + 1
	v := map[string]any{
		"id": fmt.Sprintf("%08d-0000-4000-8000-000000000000", n), "number": n,
		"created_on": time.Now().UTC().Format(time.RFC3339Nano), "urls": []string{},
		"annotations": map[string]any{"workers/tag": tag, "workers/triggered_by": "upload"},
		"main_module": "index.js", "source": "api",
	}
	f.versions = append([]map[string]any{v}, f.versions...)
	return v
}

func (f *fakeVersions) create(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Has("deploy") {
		f.t.Errorf("create version sent deploy=%q", r.URL.Query().Get("deploy"))
	}
	var body uploadedVersion
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("decode create version body: %v", err)
		writeError(w, 400, 10026, "could not parse request body")
		return
	}
	f.mu.Lock()
	mode := f.modes[min(f.posts, len(f.modes)-1)]
	f.posts++
	f.bodies = append(f.bodies, body)
	var v map[string]any
	switch mode {
	case applyOK, applyThenHangUp, applyThen503:
		v = f.add(body.Annotations["workers/tag"])
	}
	f.mu.Unlock()
	switch mode {
	case applyOK:
		writeResult(w, v)
	case applyThenHangUp, hangUpBeforeApply:
		hangUp(f.t, w)
	case applyThen503, reply503:
		writeError(w, 503, 10013, "service unavailable")
	case reply429:
		writeError(w, 429, 10013, "rate limited")
	}
}

func (f *fakeVersions) list(w http.ResponseWriter, r *http.Request) {
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	perPage, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	page, perPage = max(page, 1), max(perPage, 1)
	if f.maxPerPage > 0 {
		perPage = min(perPage, f.maxPerPage)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	from := min((page-1)*perPage, len(f.versions))
	to := min(from+perPage, len(f.versions))
	writeJSON(w, 200, map[string]any{"success": true, "errors": []any{}, "messages": []any{},
		"result": f.versions[from:to],
		"result_info": map[string]any{"page": page, "per_page": perPage, "count": to - from,
			"total_count": len(f.versions), "total_pages": (len(f.versions) + perPage - 1) / perPage}})
}

func (f *fakeVersions) stats() (posts, lists, stored int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts, f.lists, len(f.versions)
}

// countingModule is a module whose Open calls are counted.
type countingModule struct {
	content []byte
	opens   atomic.Int32
}

func (m *countingModule) upload(name, contentType string) ModuleUpload {
	return ModuleUpload{Name: name, ContentType: contentType, Open: func() (io.ReadCloser, error) {
		m.opens.Add(1)
		return io.NopCloser(bytes.NewReader(m.content)), nil
	}}
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func versionInput(tag string, modules ...ModuleUpload) VersionInput {
	return VersionInput{
		MainModule:         modules[0].Name,
		Modules:            modules,
		CompatibilityDate:  "2026-04-01",
		CompatibilityFlags: []string{"nodejs_compat"},
		Bindings:           []json.RawMessage{json.RawMessage(`{"type":"plain_text","name":"A","text":"1"}`)},
		Annotations:        map[string]string{AnnotationTag: tag, AnnotationMessage: "fix <things> & \"stuff\""},
	}
}

func TestCreateVersionStreamsBody(t *testing.T) {
	t.Parallel()
	big := &countingModule{content: randomBytes(5<<20, 1)} // 5 MiB
	small := &countingModule{content: []byte("export default { fetch() { return new Response('é') } }")}
	empty := &countingModule{}
	odd := &countingModule{content: randomBytes(readChunk+1, 2)} // crosses a chunk with a remainder
	fake := &fakeVersions{t: t, modes: []postMode{reply503, applyOK}}
	c, rec, _ := newTestClient(t, fake.handler())

	in := versionInput("abc123",
		small.upload("index.js", "application/javascript+module"),
		big.upload("lib/big.wasm", "application/wasm"),
		empty.upload("empty.txt", "text/plain"),
		odd.upload("data \"quoted\".bin", "application/octet-stream"))
	got, err := c.CreateVersion(t.Context(), "w", in)
	require.NoError(t, err)
	assert.Equal(t, "abc123", got.Tag())
	assert.Equal(t, 1, got.Number)

	posts, lists, stored := fake.stats()
	assert.Equal(t, 2, posts, "the 503 (not applied) is followed by one re-send")
	assert.Equal(t, 1, lists, "the tag is looked up before re-sending")
	assert.Equal(t, 1, stored)
	for name, m := range map[string]*countingModule{"big": big, "small": small, "empty": empty, "odd": odd} {
		assert.Equal(t, int32(2), m.opens.Load(), "module %s is opened once per attempt", name)
	}
	require.Len(t, fake.bodies, 2)
	for i, body := range fake.bodies {
		assert.Equal(t, "index.js", body.MainModule, "body %d", i)
		assert.Equal(t, "2026-04-01", body.CompatibilityDate)
		assert.Equal(t, []string{"nodejs_compat"}, body.CompatibilityFlags)
		assert.JSONEq(t, `{"type":"plain_text","name":"A","text":"1"}`, string(body.Bindings[0]))
		assert.Equal(t, in.Annotations, body.Annotations)
		require.Len(t, body.Modules, 4)
		want := []struct {
			name, ct string
			content  []byte
		}{
			{"index.js", "application/javascript+module", small.content},
			{"lib/big.wasm", "application/wasm", big.content},
			{"empty.txt", "text/plain", nil},
			{"data \"quoted\".bin", "application/octet-stream", odd.content},
		}
		for j, w := range want {
			assert.Equal(t, w.name, body.Modules[j].Name)
			assert.Equal(t, w.ct, body.Modules[j].ContentType)
			assert.True(t, bytes.Equal(w.content, body.Modules[j].Content), "content of module %q in body %d", w.name, i)
		}
	}
	assert.Contains(t, rec.Logs(), "the earlier attempt of POST /accounts/acc/workers/workers/w/versions was not applied; re-sending it")
}

func TestCreateVersionUnknownOutcome(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		tag       string
		modes     []postMode
		wantPosts int
		wantLists int
		wantErr   error
		wantLog   string
	}{
		{name: "applied, then connection dropped: found by tag", tag: "t1", modes: []postMode{applyThenHangUp},
			wantPosts: 1, wantLists: 1, wantLog: "the earlier attempt of POST /accounts/acc/workers/workers/w/versions had succeeded; not re-sending it"},
		{name: "connection dropped before applying: re-sent once", tag: "t1", modes: []postMode{hangUpBeforeApply, applyOK},
			wantPosts: 2, wantLists: 1},
		{name: "applied, then 503: found by tag", tag: "t1", modes: []postMode{applyThen503},
			wantPosts: 1, wantLists: 1},
		{name: "429 is retried without a lookup", tag: "t1", modes: []postMode{reply429, applyOK},
			wantPosts: 2, wantLists: 0},
		{name: "503 on every attempt, last check finds nothing", tag: "t1", modes: []postMode{reply503},
			wantPosts: 3, wantLists: 3},
		{name: "no tag: never re-sent", tag: "", modes: []postMode{applyThen503},
			wantPosts: 1, wantLists: 0, wantErr: ErrUnknownOutcome},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeVersions{t: t, modes: tc.modes}
			fake.add("older") // an unrelated version already exists
			c, rec, _ := newTestClient(t, fake.handler(), WithMaxAttempts(3))
			mod := &countingModule{content: []byte("export default {}")}

			got, err := c.CreateVersion(t.Context(), "w", versionInput(tc.tag, mod.upload("index.js", "application/javascript+module")))
			posts, lists, stored := fake.stats()
			assert.Equal(t, tc.wantPosts, posts, "POSTs")
			assert.Equal(t, tc.wantLists, lists, "list calls")
			if tc.wantErr != nil || tc.modes[len(tc.modes)-1] == reply503 {
				require.Error(t, err)
				if tc.wantErr != nil {
					assert.ErrorIs(t, err, tc.wantErr)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 2, stored, "exactly one version with the tag besides the older one")
			assert.Equal(t, tc.tag, got.Tag())
			assert.Equal(t, 2, got.Number)
			if tc.wantLog != "" {
				assert.Contains(t, rec.Logs(), tc.wantLog)
			}
		})
	}
}

func TestCreateVersionModuleReadError(t *testing.T) {
	t.Parallel()
	errChanged := errors.New("file changed on disk")
	cases := []struct {
		name string
		open func() (io.ReadCloser, error)
	}{
		{name: "open fails", open: func() (io.ReadCloser, error) { return nil, errChanged }},
		{name: "read fails midway", open: func() (io.ReadCloser, error) {
			return io.NopCloser(io.MultiReader(bytes.NewReader(make([]byte, 100<<10)), iotestErrReader{errChanged})), nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// A server cannot decode a truncated body; only count what arrives.
			var posts atomic.Int32
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				posts.Add(1)
				_, _ = io.Copy(io.Discard, r.Body)
				writeError(w, 400, 10026, "could not parse request body")
			})
			c, rec, _ := newTestClient(t, h)
			mod := &countingModule{content: []byte("export default {}")}
			in := versionInput("t1", mod.upload("index.js", "application/javascript+module"),
				ModuleUpload{Name: "chunks/changing.js", ContentType: "application/javascript+module", Open: tc.open})

			_, err := c.CreateVersion(t.Context(), "w", in)
			require.Error(t, err)
			assert.ErrorIs(t, err, errChanged)
			assert.Contains(t, err.Error(), `failed to read module "chunks/changing.js"`)
			assert.LessOrEqual(t, posts.Load(), int32(1))
			assert.LessOrEqual(t, c.Requests(), 1, "not retried")
			assert.Equal(t, int32(1), mod.opens.Load())
			assert.Empty(t, rec.Sleeps())
		})
	}
}

type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

func TestCreateVersionRejectsBadInput(t *testing.T) {
	t.Parallel()
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(nil)), nil }
	cases := []struct {
		name    string
		in      VersionInput
		wantErr string
	}{
		{name: "main module missing", in: VersionInput{MainModule: "main.js", Modules: []ModuleUpload{{Name: "index.js", Open: open}}},
			wantErr: `failed to create version of worker "w": main module "main.js" is not one of the 1 modules`},
		{name: "duplicate module", in: VersionInput{MainModule: "a.js", Modules: []ModuleUpload{{Name: "a.js", Open: open}, {Name: "a.js", Open: open}}},
			wantErr: `failed to create version of worker "w": module "a.js" is listed twice`},
		{name: "no opener", in: VersionInput{MainModule: "a.js", Modules: []ModuleUpload{{Name: "a.js"}}},
			wantErr: `failed to create version of worker "w": module "a.js" has no content`},
		{name: "bad binding JSON", in: VersionInput{Bindings: []json.RawMessage{json.RawMessage(`{`)}},
			wantErr: "bindings or assets are not valid JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, _, _ := newTestClient(t, http.NotFoundHandler())
			_, err := c.CreateVersion(t.Context(), "w", tc.in)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.wantErr)
			assert.Zero(t, c.Requests())
		})
	}
}

func TestCreateVersionWithoutModules(t *testing.T) {
	t.Parallel()
	var got map[string]any
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.NoError(t, json.NewDecoder(r.Body).Decode(&got))
		writeResult(w, map[string]any{"id": "v1", "number": 1.0, "created_on": "2026-01-01T00:00:00Z"})
	})
	c, _, _ := newTestClient(t, h)
	v, err := c.CreateVersion(t.Context(), "w", VersionInput{Assets: json.RawMessage(`{"jwt":"x"}`)})
	require.NoError(t, err)
	assert.Equal(t, 1, v.Number, "a float number is accepted")
	assert.Equal(t, map[string]any{"assets": map[string]any{"jwt": "x"}}, got)
}

func TestFindVersionByTag(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		total      int
		tagAt      int // 1-based position in newest-first order; 0: absent
		maxPerPage int
		wantLists  int
	}{
		{name: "on the first page", total: 30, tagAt: 3, wantLists: 1},
		{name: "on the second page", total: 250, tagAt: 180, wantLists: 2},
		{name: "absent, stops at the short page", total: 250, wantLists: 3},
		{name: "absent, stops at total_pages", total: 200, wantLists: 2},
		{name: "server caps per_page", total: 75, tagAt: 70, maxPerPage: 20, wantLists: 4},
		{name: "no versions", total: 0, wantLists: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeVersions{t: t, maxPerPage: tc.maxPerPage}
			for i := tc.total; i >= 1; i-- { // add oldest first
				tag := fmt.Sprintf("other-%d", i)
				if i == tc.tagAt {
					tag = "wanted"
				}
				fake.add(tag)
			}
			c, _, _ := newTestClient(t, fake.handler())

			got, err := c.FindVersionByTag(t.Context(), "w", "wanted")
			require.NoError(t, err)
			_, lists, _ := fake.stats()
			assert.Equal(t, tc.wantLists, lists)
			if tc.tagAt == 0 {
				assert.Nil(t, got)
				return
			}
			require.NotNil(t, got)
			assert.Equal(t, "wanted", got.Tag())
			assert.Equal(t, tc.total-tc.tagAt+1, got.Number)
		})
	}
}

func TestFindVersionByTagServerIgnoresPage(t *testing.T) {
	t.Parallel()
	var lists atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lists.Add(1)
		vs := make([]map[string]any, 100)
		for i := range vs {
			vs[i] = map[string]any{"id": fmt.Sprintf("v%d", i), "number": i, "created_on": "2026-01-01T00:00:00Z"}
		}
		writeResult(w, vs)
	})
	c, _, _ := newTestClient(t, h)
	got, err := c.FindVersionByTag(t.Context(), "w", "x")
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Equal(t, int32(2), lists.Load())
}

func TestGetVersion(t *testing.T) {
	t.Parallel()
	var gotQuery, gotPath string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery, gotPath = r.URL.RawQuery, r.URL.EscapedPath()
		writeResult(w, map[string]any{
			"id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e", "number": 7, "created_on": "2026-02-03T04:05:06.789Z",
			"urls":        []string{"https://182bd5e5-my-worker.sub.workers.dev"},
			"annotations": map[string]any{"workers/tag": "abc", "workers/message": "m", "future": map[string]any{"x": 1}},
			"main_module": "index.js", "compatibility_date": "2026-01-01", "compatibility_flags": []string{"nodejs_compat"},
			"bindings": []any{map[string]any{"type": "secret_text", "name": "S"}},
			"modules":  []any{map[string]any{"name": "index.js", "content_type": "application/javascript+module", "content_base64": "aGVsbG8="}},
			"source":   "api",
		})
	})
	c, _, _ := newTestClient(t, h)

	got, err := c.GetVersion(t.Context(), "my worker", "latest", true)
	require.NoError(t, err)
	assert.Equal(t, "include=modules", gotQuery)
	assert.Equal(t, "/accounts/acc/workers/workers/my%20worker/versions/latest", gotPath)
	assert.Equal(t, 7, got.Number)
	assert.Equal(t, time.Date(2026, 2, 3, 4, 5, 6, 789e6, time.UTC), got.CreatedOn)
	assert.Equal(t, Annotations{"workers/tag": "abc", "workers/message": "m"}, got.Annotations, "non-string annotations are skipped")
	assert.Equal(t, []ModuleContent{{Name: "index.js", ContentType: "application/javascript+module", Content: []byte("hello")}}, got.Modules)
	assert.Equal(t, []string{"nodejs_compat"}, got.CompatibilityFlags)
	assert.Len(t, got.Bindings, 1)
	assert.Equal(t, "api", got.Source)
}

// TestCreateVersionDoesNotBufferBody checks that an 8 MiB upload allocates a
// small fraction of its size. It does not call t.Parallel: the heap counter
// is process-wide, and serial tests run before parallel ones resume.
func TestCreateVersionDoesNotBufferBody(t *testing.T) {
	content := randomBytes(8<<20, 3)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeResult(w, map[string]any{"id": "v", "number": 1, "created_on": "2026-01-01T00:00:00Z"})
	})
	c, _, _ := newTestClient(t, h)
	in := versionInput("t", ModuleUpload{Name: "big.wasm", ContentType: "application/wasm",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := c.CreateVersion(t.Context(), "w", in)
	require.NoError(t, err)
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(2<<20), "allocated %d bytes for an 8 MiB module", allocated)
}

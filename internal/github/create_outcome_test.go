package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// createFaults are what the fake does with successive create POSTs (those
// after the list, and "", are served normally):
//
//	reset    close the connection without applying the request
//	lost     apply it, then close the connection without an answer
//	503      answer 503 without applying it
//	502-late apply it, then answer 502
//	429      answer 429 Retry-After: 1 without applying it
//	cut      apply it, then answer 201 with the first half of the JSON
//	cut-conn apply it, then answer 201 announcing the whole body but
//	         closing the connection after half of it
//	no-id    apply it, then answer 201 with the object without its id
//	empty    apply it, then answer 201 with an empty body
//	cut-only answer 201 with half a JSON object without applying it (a
//	         proxy's doing)
type createFaults []string

// createFake serves comment and deployment creates and their lookups, with
// faults on the creates.
type createFake struct {
	t      *testing.T
	faults createFaults

	mu          sync.Mutex
	posts       int
	lookups     []string // raw queries of the lookups
	comments    []map[string]any
	deployments []map[string]any
	// lookupStatus, when set, answers every lookup with it.
	lookupStatus int
}

func (f *createFake) fault() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := f.posts
	f.posts++
	if i < len(f.faults) {
		return f.faults[i]
	}
	return ""
}

// serveCreate applies (or not) one create and answers per the fault.
func (f *createFake) serveCreate(w http.ResponseWriter, r *http.Request, apply func(in map[string]any) map[string]any) {
	var in map[string]any
	require.NoError(f.t, json.NewDecoder(r.Body).Decode(&in))
	fault := f.fault()
	switch fault {
	case "reset":
		hangUpTest(f.t, w)
	case "lost":
		f.mu.Lock()
		apply(in)
		f.mu.Unlock()
		hangUpTest(f.t, w)
	case "503":
		status(503, nil, `{"message":"Service Unavailable"}`)(w)
	case "429":
		status(429, map[string]string{"Retry-After": "1"}, `{"message":"slow down"}`)(w)
	case "502-late":
		f.mu.Lock()
		apply(in)
		f.mu.Unlock()
		status(502, nil, `{"message":"Server Error"}`)(w)
	case "cut", "cut-conn", "no-id", "empty", "cut-only":
		f.mu.Lock()
		var out map[string]any
		if fault == "cut-only" {
			out = map[string]any{"id": 999, "body": "never written"}
		} else {
			out = apply(in)
		}
		f.mu.Unlock()
		writeGarbled(f.t, w, fault, out)
	case "":
		f.mu.Lock()
		out := apply(in)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(out)
	default:
		f.t.Errorf("unknown fault %q", fault)
	}
}

// writeGarbled answers 201 with out garbled per fault (see createFaults).
func writeGarbled(t *testing.T, w http.ResponseWriter, fault string, out map[string]any) {
	if fault == "no-id" {
		c := make(map[string]any, len(out))
		for k, v := range out {
			if k != "id" {
				c[k] = v
			}
		}
		out = c
	}
	data, err := json.Marshal(out)
	require.NoError(t, err)
	w.Header().Set("Content-Type", "application/json")
	switch fault {
	case "cut", "cut-only":
		status(http.StatusCreated, nil, string(data[:len(data)/2]))(w)
	case "cut-conn":
		hj, ok := w.(http.Hijacker)
		require.True(t, ok)
		conn, buf, err := hj.Hijack()
		require.NoError(t, err)
		fmt.Fprintf(buf, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(data), data[:len(data)/2])
		_ = buf.Flush()
		conn.Close()
	case "empty":
		status(http.StatusCreated, nil, "")(w)
	default:
		status(http.StatusCreated, nil, string(data))(w)
	}
}

// lookup records a lookup; false when it was answered with lookupStatus.
func (f *createFake) lookup(w http.ResponseWriter, r *http.Request) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lookups = append(f.lookups, r.URL.RawQuery)
	if f.lookupStatus != 0 {
		status(f.lookupStatus, nil, `{"message":"Resource not accessible by integration"}`)(w)
		return false
	}
	return true
}

func (f *createFake) counts() (posts, lookups int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.posts, len(f.lookups)
}

func hangUpTest(t *testing.T, w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	require.True(t, ok)
	conn, _, err := hj.Hijack()
	require.NoError(t, err)
	conn.Close()
}

func (f *createFake) register(mux *http.ServeMux) {
	mux.HandleFunc("POST /repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		f.serveCreate(w, r, func(in map[string]any) map[string]any {
			c := map[string]any{"id": 100 + len(f.comments), "body": in["body"], "html_url": fmt.Sprintf("u%d", 100+len(f.comments)),
				"user": map[string]any{"login": "github-actions[bot]", "type": "Bot"}}
			f.comments = append(f.comments, c)
			return c
		})
	})
	mux.HandleFunc("GET /repos/o/r/issues/7/comments", func(w http.ResponseWriter, r *http.Request) {
		if !f.lookup(w, r) {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(append([]map[string]any{
			{"id": 1, "body": "<!-- m -->\nnot mine", "user": map[string]any{"login": "mallory", "type": "User"}},
		}, f.comments...))
	})
	mux.HandleFunc("POST /repos/o/r/deployments", func(w http.ResponseWriter, r *http.Request) {
		f.serveCreate(w, r, func(in map[string]any) map[string]any {
			d := map[string]any{"id": 500 + len(f.deployments), "url": fmt.Sprintf("d%d", 500+len(f.deployments)),
				"sha": in["ref"], "ref": in["ref"], "task": in["task"], "environment": in["environment"], "payload": in["payload"]}
			f.deployments = append(f.deployments, d)
			return d
		})
	})
	mux.HandleFunc("GET /repos/o/r/deployments", func(w http.ResponseWriter, r *http.Request) {
		if !f.lookup(w, r) {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		// Newest first, like GitHub; older deployments of the same commit
		// (another Worker, an earlier attempt) and a string payload come along.
		out := []map[string]any{}
		for i := len(f.deployments) - 1; i >= 0; i-- {
			out = append(out, f.deployments[i])
		}
		out = append(out,
			map[string]any{"id": 41, "payload": map[string]any{"nonce": "other-worker"}},
			map[string]any{"id": 40, "payload": `{"nonce":"an earlier attempt"}`},
			map[string]any{"id": 39, "payload": ""},
		)
		_ = json.NewEncoder(w).Encode(out)
	})
}

func mineTest(c Comment) bool {
	return strings.HasPrefix(c.Body, "<!-- m -->") && c.Author == "github-actions[bot]"
}

func TestCreateCommentResolvesAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name         string
		faults       createFaults
		lookupStatus int
		nilCheck     bool
		wantPosts    int
		wantLookups  int
		wantComments int
		wantErr      string
		wantUnknown  bool
	}{
		{name: "lost answer: found by the lookup, not re-sent", faults: createFaults{"lost"}, wantPosts: 1, wantLookups: 1, wantComments: 1},
		{name: "reset: not found, re-sent once", faults: createFaults{"reset"}, wantPosts: 2, wantLookups: 1, wantComments: 1},
		{name: "502 after the write: found, not re-sent", faults: createFaults{"502-late"}, wantPosts: 1, wantLookups: 1, wantComments: 1},
		{name: "503 twice: looked up before each re-send", faults: createFaults{"503", "503"}, wantPosts: 3, wantLookups: 2, wantComments: 1},
		{name: "429: a rejection, re-sent without a lookup", faults: createFaults{"429"}, wantPosts: 2, wantLookups: 0, wantComments: 1},
		{name: "201 cut off: found by the lookup, not re-sent", faults: createFaults{"cut"}, wantPosts: 1, wantLookups: 1, wantComments: 1},
		{name: "201, connection closed mid-body: found, not re-sent", faults: createFaults{"cut-conn"}, wantPosts: 1, wantLookups: 1, wantComments: 1},
		{name: "201 without an id: found, not re-sent", faults: createFaults{"no-id"}, wantPosts: 1, wantLookups: 1, wantComments: 1},
		{name: "201 empty: found, not re-sent", faults: createFaults{"empty"}, wantPosts: 1, wantLookups: 1, wantComments: 1},
		{name: "201 cut off by a proxy, not applied: re-sent once", faults: createFaults{"cut-only"}, wantPosts: 2, wantLookups: 1, wantComments: 1},
		{
			name: "lookup fails: not re-sent", faults: createFaults{"reset"}, lookupStatus: 403,
			wantPosts: 1, wantLookups: 1, wantComments: 0, wantUnknown: true,
			wantErr: "could not check whether it was: GitHub API GET /repos/o/r/issues/7/comments: 403",
		},
		{
			name: "no way to look: not re-sent", faults: createFaults{"lost"}, nilCheck: true,
			wantPosts: 1, wantLookups: 0, wantComments: 1, wantUnknown: true, wantErr: "not re-sent",
		},
		{
			name: "persistent 503: a last look, then the 503", faults: createFaults{"503", "503", "503", "503", "503", "503"},
			wantPosts: 5, wantLookups: 5, wantComments: 0, wantErr: "503 Service Unavailable",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			f := &createFake{t: t, faults: tc.faults, lookupStatus: tc.lookupStatus}
			f.register(mux)
			mine := mineTest
			if tc.nilCheck {
				mine = nil
			}
			got, err := c.CreateComment(context.Background(), "o", "r", 7, "<!-- m -->\nbody", mine)
			posts, lookups := f.counts()
			assert.Equal(t, tc.wantPosts, posts, "POSTs")
			assert.Equal(t, tc.wantLookups, lookups, "lookups")
			f.mu.Lock()
			assert.Len(t, f.comments, tc.wantComments, "comments created")
			f.mu.Unlock()
			if tc.wantErr != "" {
				require.Error(t, err)
				t.Logf("error: %v", err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Equal(t, tc.wantUnknown, errors.Is(err, ErrUnknownOutcome), "ErrUnknownOutcome: %v", err)
				assert.NotContains(t, err.Error(), testToken)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, Comment{ID: 100, Body: "<!-- m -->\nbody", HTMLURL: "u100", Author: "github-actions[bot]", AuthorType: "Bot"}, got)
		})
	}
}

func TestCreateDeploymentResolvesAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	const sha = "1111111111111111111111111111111111111111"
	cases := []struct {
		name          string
		ref           string
		faults        createFaults
		lookupStatus  int
		noNonce       bool
		wantPosts     int
		wantLookups   int
		wantCreated   int
		wantErr       string
		wantUnknown   bool
		wantLookupQry string
	}{
		{name: "lost answer: found by its nonce, not re-sent", ref: sha, faults: createFaults{"lost"}, wantPosts: 1, wantLookups: 1, wantCreated: 1,
			wantLookupQry: "environment=preview&per_page=100&sha=" + sha + "&task=deploy"},
		{name: "reset: not found, re-sent once", ref: sha, faults: createFaults{"reset"}, wantPosts: 2, wantLookups: 1, wantCreated: 1},
		{name: "a branch ref is looked up by ref", ref: "main", faults: createFaults{"lost"}, wantPosts: 1, wantLookups: 1, wantCreated: 1,
			wantLookupQry: "environment=preview&per_page=100&ref=main&task=deploy"},
		{name: "502 after the write: found, not re-sent", ref: sha, faults: createFaults{"502-late"}, wantPosts: 1, wantLookups: 1, wantCreated: 1},
		{name: "503 twice: looked up before each re-send", ref: sha, faults: createFaults{"503", "503"}, wantPosts: 3, wantLookups: 2, wantCreated: 1},
		{name: "201 cut off: found by its nonce, not re-sent", ref: sha, faults: createFaults{"cut"}, wantPosts: 1, wantLookups: 1, wantCreated: 1},
		{name: "201, connection closed mid-body: found, not re-sent", ref: sha, faults: createFaults{"cut-conn"}, wantPosts: 1, wantLookups: 1, wantCreated: 1},
		{name: "201 without an id: found by its nonce, not re-sent", ref: sha, faults: createFaults{"no-id"}, wantPosts: 1, wantLookups: 1, wantCreated: 1},
		{name: "201 empty: found, not re-sent", ref: sha, faults: createFaults{"empty"}, wantPosts: 1, wantLookups: 1, wantCreated: 1},
		{name: "201 cut off by a proxy, not applied: re-sent once", ref: sha, faults: createFaults{"cut-only"}, wantPosts: 2, wantLookups: 1, wantCreated: 1},
		{
			name: "201 cut off, lookup fails: unknown, not re-sent", ref: sha, faults: createFaults{"cut"}, lookupStatus: 403,
			wantPosts: 1, wantLookups: 1, wantCreated: 1, wantUnknown: true, wantErr: "GitHub answered HTTP 201 Created but the answer is not a JSON object",
		},
		{
			name: "lookup fails: not re-sent", ref: sha, faults: createFaults{"reset"}, lookupStatus: 404,
			wantPosts: 1, wantLookups: 1, wantUnknown: true,
			wantErr: "could not check whether it was: GitHub API GET /repos/o/r/deployments: 404",
		},
		{
			name: "no nonce: not re-sent", ref: sha, faults: createFaults{"lost"}, noNonce: true,
			wantPosts: 1, wantCreated: 1, wantUnknown: true, wantErr: "not re-sent",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			f := &createFake{t: t, faults: tc.faults, lookupStatus: tc.lookupStatus}
			f.register(mux)
			req := DeploymentRequest{Ref: tc.ref, Environment: "preview", Payload: map[string]any{"worker": "shop"}, Nonce: "shop/4242/1/v1"}
			if tc.noNonce {
				req.Nonce = ""
			}
			got, err := c.CreateDeployment(context.Background(), "o", "r", req)
			posts, lookups := f.counts()
			assert.Equal(t, tc.wantPosts, posts, "POSTs")
			assert.Equal(t, tc.wantLookups, lookups, "lookups")
			assert.Equal(t, map[string]any{"worker": "shop"}, req.Payload, "the caller's payload is not changed")
			f.mu.Lock()
			created := append([]map[string]any(nil), f.deployments...)
			qs := append([]string(nil), f.lookups...)
			f.mu.Unlock()
			assert.Len(t, created, tc.wantCreated, "deployments created")
			if tc.wantLookupQry != "" && assert.NotEmpty(t, qs) {
				assert.Equal(t, tc.wantLookupQry, qs[0])
			}
			if tc.wantErr != "" {
				require.Error(t, err)
				t.Logf("error: %v", err)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Equal(t, tc.wantUnknown, errors.Is(err, ErrUnknownOutcome), "ErrUnknownOutcome: %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, Deployment{ID: 500, URL: "d500"}, got)
			require.NotEmpty(t, created)
			assert.Equal(t, map[string]any{"worker": "shop", "nonce": "shop/4242/1/v1"}, created[0]["payload"])
		})
	}
}

func TestPayloadNonce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, raw, want string
	}{
		{"object", `{"nonce":"n1","worker":"shop"}`, "n1"},
		{"string holding an object", `"{\"nonce\":\"n2\"}"`, "n2"},
		{"empty string", `""`, ""},
		{"null", `null`, ""},
		{"no nonce", `{"worker":"shop"}`, ""},
		{"nonce not a string", `{"nonce":3}`, ""},
		{"garbage", `{`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, payloadNonce(json.RawMessage(tc.raw)))
		})
	}
}

func FuzzPayloadNonce(f *testing.F) {
	f.Add(`{"nonce":"n1"}`)
	f.Add(`"{\"nonce\":\"n2\"}"`)
	f.Add(`null`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, raw string) {
		n := payloadNonce(json.RawMessage(raw))
		if n != "" && !strings.Contains(raw, "nonce") {
			t.Fatalf("nonce %q from a payload without one: %q", n, raw)
		}
	})
}

func TestIsCommitSHA(t *testing.T) {
	t.Parallel()
	assert.True(t, isCommitSHA("1111111111111111111111111111111111111111"))
	assert.True(t, isCommitSHA(strings.Repeat("aB", 32)))
	assert.False(t, isCommitSHA("main"))
	assert.False(t, isCommitSHA("refs/heads/main"))
	assert.False(t, isCommitSHA(strings.Repeat("g", 40)))
}

// TestCreateOutcomeSurvivesTheContextEnding: when the call's context ends
// while a create's outcome is unknown (during the lookup, or during the POST
// of a create nothing can look up), the error still wraps ErrUnknownOutcome.
// go-github answers any transport error with ctx.Err() once the context is
// done, which used to drop it.
func TestCreateOutcomeSurvivesTheContextEnding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// during is the request that ends the context: the lookup (GET) or
		// the create itself (POST).
		during string
		call   func(ctx context.Context, c *Client) error
	}{
		{
			name: "comment: the lookup is cut short", during: "GET",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateComment(ctx, "o", "r", 7, "<!-- m -->\nbody", mineTest)
				return err
			},
		},
		{
			name: "deployment: the lookup is cut short", during: "GET",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateDeployment(ctx, "o", "r", DeploymentRequest{Ref: "main", Environment: "preview", Nonce: "n1"})
				return err
			},
		},
		{
			name: "comment without a lookup: the create is cut short", during: "POST",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateComment(ctx, "o", "r", 7, "body", nil)
				return err
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux, _ := setup(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// endCall ends the client's context while the request is in
			// flight, then hangs up without an answer.
			endCall := func(w http.ResponseWriter) {
				cancel()
				hangUpTest(t, w)
			}
			post := func(w http.ResponseWriter, r *http.Request) {
				if tc.during == "POST" {
					endCall(w)
					return
				}
				hangUpTest(t, w) // a reset: the outcome is unknown
			}
			get := func(w http.ResponseWriter, r *http.Request) { endCall(w) }
			mux.HandleFunc("POST /repos/o/r/issues/7/comments", post)
			mux.HandleFunc("POST /repos/o/r/deployments", post)
			mux.HandleFunc("GET /repos/o/r/issues/7/comments", get)
			mux.HandleFunc("GET /repos/o/r/deployments", get)
			err := tc.call(ctx, c)
			require.Error(t, err)
			t.Logf("error: %v", err)
			assert.ErrorIs(t, err, ErrUnknownOutcome)
			assert.NotContains(t, err.Error(), testToken)
		})
	}
}

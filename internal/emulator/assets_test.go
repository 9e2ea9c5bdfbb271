package emulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func assetHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:32]
}

type sessionResult struct {
	JWT     string     `json:"jwt"`
	Buckets [][]string `json:"buckets"`
}

func (e *testEnv) startSession(t *testing.T, worker string, files map[string]string) sessionResult {
	t.Helper()
	manifest := map[string]any{}
	for p, c := range files {
		manifest[p] = map[string]any{"hash": assetHash(c), "size": len(c)}
	}
	var s sessionResult
	e.do(http.MethodPost, acctPath+"/workers/scripts/"+worker+"/assets-upload-session", map[string]any{"manifest": manifest}).ok(t, &s)
	return s
}

// uploadBucket sends contents (by hash) with auth, query q; it returns the raw response.
func (e *testEnv) uploadBucket(t *testing.T, auth, q string, contents ...string) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, c := range contents {
		w, err := mw.CreateFormFile(assetHash(c), assetHash(c))
		require.NoError(t, err)
		_, _ = w.Write([]byte(base64.StdEncoding.EncodeToString([]byte(c))))
	}
	require.NoError(t, mw.Close())
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+BasePath+acctPath+"/workers/assets/upload"+q, &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", auth)
	resp, err := e.client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// completionToken uploads one asset to worker and returns a completion token.
func (e *testEnv) completionToken(t *testing.T, worker string) string {
	t.Helper()
	content := "<h1>" + worker + "</h1>"
	s := e.startSession(t, worker, map[string]string{"/index.html": content})
	if len(s.Buckets) == 0 {
		return s.JWT
	}
	status, raw := e.uploadBucket(t, "Bearer "+s.JWT, "?base64=true", content)
	require.Equal(t, http.StatusCreated, status, raw)
	var env struct {
		Result sessionResult `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &env))
	return env.Result.JWT
}

func TestAssetUploadFlow(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{Token: testToken})
	e.createWorker("site", nil)
	files := map[string]string{"/index.html": "<h1>hi</h1>", "/a.css": "body{}", "/copy.html": "<h1>hi</h1>"}
	s := e.startSession(t, "site", files)
	require.Len(t, s.Buckets, 1)
	assert.ElementsMatch(t, []string{assetHash("<h1>hi</h1>"), assetHash("body{}")}, s.Buckets[0], "one entry per distinct hash")

	status, _ := e.uploadBucket(t, "Bearer "+testToken, "?base64=true", "<h1>hi</h1>")
	assert.Equal(t, http.StatusUnauthorized, status, "the API token is not an upload token")
	status, _ = e.uploadBucket(t, "Bearer "+s.JWT, "", "<h1>hi</h1>")
	assert.Equal(t, http.StatusBadRequest, status, "base64=true is required")

	status, raw := e.uploadBucket(t, "Bearer "+s.JWT, "?base64=true", "<h1>hi</h1>")
	assert.Equal(t, http.StatusOK, status, raw)
	assert.NotContains(t, raw, `"jwt"`, "an intermediate bucket returns no token")
	status, raw = e.uploadBucket(t, "Bearer "+s.JWT, "?base64=true", "body{}")
	require.Equal(t, http.StatusCreated, status, raw)
	var env struct {
		Result sessionResult `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &env))
	require.NotEmpty(t, env.Result.JWT)
	assert.Equal(t, []byte("body{}"), e.srv.Assets("site")[assetHash("body{}")])

	// The completion token is accepted by version create; the upload token is not.
	body := versionBody(map[string]any{"type": "assets", "name": "ASSETS"})
	body["assets"] = map[string]any{"jwt": s.JWT}
	e.do(http.MethodPost, acctPath+"/workers/workers/site/versions", body).failed(t, 400, 10021)
	body["assets"] = map[string]any{"jwt": env.Result.JWT, "config": map[string]any{"html_handling": "none"}}
	e.do(http.MethodPost, acctPath+"/workers/workers/site/versions", body).ok(t, nil)

	// The version keeps the upload's manifest, so a test can rebuild the asset tree.
	vs := e.srv.Versions("site")
	require.Len(t, vs, 1)
	want := map[string]string{}
	for p, c := range files {
		want[p] = assetHash(c)
	}
	assert.Equal(t, want, vs[0].AssetManifest)
	assert.JSONEq(t, `{"html_handling":"none"}`, string(vs[0].AssetConfig))
	body["assets"] = map[string]any{"jwt": env.Result.JWT}

	// Everything stored: a new session has no buckets and returns a completion token.
	again := e.startSession(t, "site", files)
	assert.Empty(t, again.Buckets)
	body["assets"] = map[string]any{"jwt": again.JWT}
	e.do(http.MethodPost, acctPath+"/workers/workers/site/versions", body).ok(t, nil)

	// A token of another Worker is refused.
	e.createWorker("other", nil)
	e.do(http.MethodPost, acctPath+"/workers/workers/other/versions", body).failed(t, 400, 10021)
}

func TestAssetSessionValidation(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t, Options{})
	e.createWorker("site", nil)
	cases := []struct {
		name string
		body any
		code int
	}{
		{"no manifest", map[string]any{}, 10021},
		{"bad hash", map[string]any{"manifest": map[string]any{"/a": map[string]any{"hash": "xyz", "size": 1}}}, 10021},
		{"no leading slash", map[string]any{"manifest": map[string]any{"a": map[string]any{"hash": assetHash("a"), "size": 1}}}, 10021},
		{"too large", map[string]any{"manifest": map[string]any{"/a": map[string]any{"hash": assetHash("a"), "size": 25 << 20}}}, 10021},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e.do(http.MethodPost, acctPath+"/workers/scripts/site/assets-upload-session", tc.body).failed(t, 400, tc.code)
		})
	}
	e.do(http.MethodPost, acctPath+"/workers/scripts/nope/assets-upload-session", map[string]any{"manifest": map[string]any{}}).failed(t, 404, 10007)
}

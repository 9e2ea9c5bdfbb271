package cloudflare

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateAssetUploadSession(t *testing.T) {
	t.Parallel()
	var got map[string]map[string]AssetManifestEntry
	mux := http.NewServeMux()
	mux.HandleFunc("POST /accounts/acc/workers/scripts/shop/assets-upload-session", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer "+testToken, r.Header.Get("Authorization"))
		require.NoError(t, json.NewDecoder(r.Body).Decode(&got))
		writeResult(w, map[string]any{"jwt": "upload-jwt", "buckets": [][]string{{"h1"}, {"h2"}}})
	})
	c, _, _ := newTestClient(t, mux)
	s, err := c.CreateAssetUploadSession(context.Background(), "shop", map[string]AssetManifestEntry{"/index.html": {Hash: "h1", Size: 3}})
	require.NoError(t, err)
	assert.Equal(t, &AssetUploadSession{JWT: "upload-jwt", Buckets: [][]string{{"h1"}, {"h2"}}}, s)
	assert.Equal(t, AssetManifestEntry{Hash: "h1", Size: 3}, got["manifest"]["/index.html"])
}

func TestUploadAssetsUsesUploadTokenNotAPIToken(t *testing.T) {
	t.Parallel()
	var attempts atomic.Int32
	parts := map[string]string{}
	types := map[string]string{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /accounts/acc/workers/assets/upload", func(w http.ResponseWriter, r *http.Request) {
		if attempts.Add(1) == 1 {
			writeError(w, http.StatusServiceUnavailable, 10013, "try again")
			return
		}
		assert.Equal(t, "Bearer upload-jwt", r.Header.Get("Authorization"))
		assert.NotContains(t, r.Header.Get("Authorization"), testToken)
		assert.Equal(t, "true", r.URL.Query().Get("base64"))
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		require.NoError(t, err)
		require.Equal(t, "multipart/form-data", mt)
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
			b, _ := io.ReadAll(p)
			dec, err := base64.StdEncoding.DecodeString(string(b))
			require.NoError(t, err)
			parts[p.FormName()] = string(dec)
			types[p.FormName()] = p.Header.Get("Content-Type")
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"success":true,"errors":[],"messages":[],"result":{"jwt":"completion-jwt"}}`))
	})
	c, _, _ := newTestClient(t, mux)
	open := func(s string) func() (io.ReadCloser, error) {
		return func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(s)), nil }
	}
	jwt, err := c.UploadAssets(context.Background(), "upload-jwt", []AssetFile{
		{Hash: "h1", ContentType: "text/html", Open: open("<p>hi</p>")},
		{Hash: "h2", Open: open("raw")},
	})
	require.NoError(t, err)
	assert.Equal(t, "completion-jwt", jwt)
	assert.Equal(t, int32(2), attempts.Load(), "a 503 is retried: uploads are content-addressed")
	assert.Equal(t, map[string]string{"h1": "<p>hi</p>", "h2": "raw"}, parts)
	assert.Equal(t, map[string]string{"h1": "text/html", "h2": "application/null"}, types)
}

func TestUploadAssetsUnreadableFile(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /accounts/acc/workers/assets/upload", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		writeResult(w, map[string]any{})
	})
	c, _, _ := newTestClient(t, mux)
	_, err := c.UploadAssets(context.Background(), "upload-jwt", []AssetFile{
		{Hash: "h1", Open: func() (io.ReadCloser, error) { return nil, errors.New("gone") }},
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "failed to read asset h1")
}

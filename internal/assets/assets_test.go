package assets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	return dir
}

func paths(m *Manifest) []string {
	out := []string{}
	for _, f := range m.Files {
		out = append(out, f.Path)
	}
	return out
}

func TestIgnore(t *testing.T) {
	t.Parallel()
	ig, err := ParseIgnore("# comment\n*.map\n/secret.txt\nbuild/\n!keep.map\ndocs/**/*.md\n")
	require.NoError(t, err)
	cases := []struct {
		path  string
		isDir bool
		want  bool
	}{
		{"app.js.map", false, true},
		{"js/app.js.map", false, true},
		{"keep.map", false, false},
		{"secret.txt", false, true},
		{"sub/secret.txt", false, false},
		{"build", true, true},
		{"build/x.js", false, true},
		{"a/build/x.js", false, true},
		{"build", false, false},
		{"docs/a/b/c.md", false, true},
		{"docs/c.html", false, false},
		{"index.html", false, false},
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, ig.Match(tc.path, tc.isDir))
		})
	}
	// gitignore, not doublestar: braces are literal, "]" first in a class
	// is a member, "**" inside a name is "*", "a/**" is what is inside a.
	lit, err := ParseIgnore("{a,b}.txt\n[]x].js\nc**d\nlib/**\n")
	require.NoError(t, err)
	for _, tc := range []struct {
		path  string
		isDir bool
		want  bool
	}{
		{"{a,b}.txt", false, true},
		{"a.txt", false, false},
		{"]x].js", false, false},
		{"].js", false, true},
		{"x.js", false, true},
		{"cd", false, true},
		{"c/d", false, false},
		{"lib", true, false},
		{"lib/x", false, true},
	} {
		assert.Equal(t, tc.want, lit.Match(tc.path, tc.isDir), "%s", tc.path)
	}
	_, err = ParseIgnore("[a\n")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 1")
	assert.Contains(t, err.Error(), `"[a"`, "the line as written")
}

func TestBuild(t *testing.T) {
	t.Parallel()
	dir := writeTree(t, map[string]string{
		"index.html":               "<h1>hi</h1>",
		"css/app.css":              "body{}",
		"js/app.js.map":            "{}",
		".assetsignore":            "*.map\ndrafts/\n",
		"drafts/wip.html":          "wip",
		".well-known/security.txt": "Contact: x",
		".git/config":              "x",
		"data.unknownext":          "?",
	})
	m, err := Build(dir)
	require.NoError(t, err)
	assert.Equal(t, []string{"/.well-known/security.txt", "/css/app.css", "/data.unknownext", "/index.html"}, paths(m))
	assert.Equal(t, 1, m.Ignored)
	sum := sha256.Sum256([]byte("<h1>hi</h1>"))
	idx := m.Files[3]
	assert.Equal(t, hex.EncodeToString(sum[:])[:32], idx.Hash)
	assert.Equal(t, int64(11), idx.Size)
	assert.Equal(t, "text/html; charset=utf-8", idx.ContentType)
	assert.Equal(t, "application/null", m.Files[2].ContentType)
	assert.Equal(t, cloudflare.AssetManifestEntry{Hash: idx.Hash, Size: 11}, m.Entries()["/index.html"])
}

func TestBuildLimits(t *testing.T) {
	t.Parallel()
	t.Run("file too large", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		f, err := os.Create(filepath.Join(dir, "big.bin"))
		require.NoError(t, err)
		require.NoError(t, f.Truncate(MaxFileBytes))
		require.NoError(t, f.Close())
		_, err = Build(dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `"big.bin"`)
		assert.Contains(t, err.Error(), "25 MiB")
	})
	t.Run("symlink outside", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		outside := filepath.Join(t.TempDir(), "x.txt")
		require.NoError(t, os.WriteFile(outside, []byte("x"), 0o644))
		require.NoError(t, os.Symlink(outside, filepath.Join(dir, "x.txt")))
		_, err := Build(dir)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "outside the assets directory")
	})
	t.Run("not a directory", func(t *testing.T) {
		t.Parallel()
		_, err := Build(filepath.Join(t.TempDir(), "nope"))
		require.Error(t, err)
	})
}

// fakeUploader serves a session and records uploads.
type fakeUploader struct {
	mu        sync.Mutex
	have      map[string]bool
	uploaded  []string
	inFlight  atomic.Int32
	maxFlight atomic.Int32
	fail      error
	bucket    int
}

func (f *fakeUploader) CreateAssetUploadSession(_ context.Context, _ string, m map[string]cloudflare.AssetManifestEntry) (*cloudflare.AssetUploadSession, error) {
	var missing []string
	seen := map[string]bool{}
	for _, e := range m {
		if !f.have[e.Hash] && !seen[e.Hash] {
			seen[e.Hash] = true
			missing = append(missing, e.Hash)
		}
	}
	sort.Strings(missing)
	if len(missing) == 0 {
		return &cloudflare.AssetUploadSession{JWT: "completion-now"}, nil
	}
	s := &cloudflare.AssetUploadSession{JWT: "upload"}
	for i := 0; i < len(missing); i += f.bucket {
		s.Buckets = append(s.Buckets, missing[i:min(i+f.bucket, len(missing))])
	}
	return s, nil
}

func (f *fakeUploader) UploadAssets(_ context.Context, jwt string, files []cloudflare.AssetFile) (string, error) {
	n := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		m := f.maxFlight.Load()
		if n <= m || f.maxFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if jwt != "upload" {
		return "", errors.New("wrong token")
	}
	if f.fail != nil {
		return "", f.fail
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range files {
		rc, err := a.Open()
		if err != nil {
			return "", err
		}
		_, _ = io.ReadAll(rc)
		rc.Close()
		f.have[a.Hash] = true
		f.uploaded = append(f.uploaded, a.Hash)
	}
	return "completion-" + files[0].Hash, nil
}

func TestUpload(t *testing.T) {
	t.Parallel()
	files := map[string]string{}
	for i := range 9 {
		files[string(rune('a'+i))+".txt"] = string(rune('a' + i))
	}
	files["dup.txt"] = "a" // same content as a.txt: uploaded once
	dir := writeTree(t, files)
	m, err := Build(dir)
	require.NoError(t, err)

	api := &fakeUploader{have: map[string]bool{}, bucket: 2}
	res, err := Upload(context.Background(), api, "site", m, 2)
	require.NoError(t, err)
	assert.Equal(t, 9, res.Uploaded)
	assert.Equal(t, 5, res.Buckets)
	assert.Len(t, api.uploaded, 9)
	assert.Contains(t, res.CompletionJWT, "completion-")
	assert.LessOrEqual(t, api.maxFlight.Load(), int32(2), "the pool is bounded")

	again, err := Upload(context.Background(), api, "site", m, 2)
	require.NoError(t, err)
	assert.Equal(t, &Result{CompletionJWT: "completion-now"}, again, "unchanged files are not sent again")
	assert.Len(t, api.uploaded, 9)

	failing := &fakeUploader{have: map[string]bool{}, bucket: 3, fail: errors.New("boom")}
	_, err = Upload(context.Background(), failing, "site", m, 2)
	require.ErrorContains(t, err, "boom")
}

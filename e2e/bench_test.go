package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkAssetUpload5000 runs the built binary once per iteration against a
// fresh emulator with 5,000 small static assets: wall time per run,
// and the requests it made, by kind. Buckets are the emulator's (10 files per
// bucket; Cloudflare's bucket size is not documented), uploaded 3 at a time.
//
//	go test -run '^$' -bench BenchmarkAssetUpload5000 -benchtime 5x ./e2e/
func BenchmarkAssetUpload5000(b *testing.B) {
	ws := b.TempDir()
	src := filepath.Join("..", "testdata", "workers", "esm-multi", "dist")
	entries, err := os.ReadDir(src)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		write(b, ws, "dist/"+e.Name(), mustRead(b, filepath.Join(src, e.Name())))
	}
	write(b, ws, "dist/lib/util.mjs", mustRead(b, filepath.Join(src, "lib", "util.mjs")))
	for i := range 5000 {
		write(b, ws, fmt.Sprintf("public/p%02d/asset%04d.css", i%50, i), []byte(fmt.Sprintf("body{--n:%d}", i)))
	}
	write(b, ws, "wrangler.json", []byte(`{"name":"site","assets":{"directory":"public","binding":"ASSETS"}}`))

	var sessions, uploads, all int
	for i := range b.N {
		b.StopTimer()
		cf := newCloudflare(b)
		j := job{Workspace: ws, Outside: true, Args: []string{
			"--api-url", cf.URL, "--api-token", testToken, "--account-id", testAccount,
			"--compatibility-date", "2025-09-01", "--tag", fmt.Sprintf("bench-%d", i), "--deploy",
		}}
		b.StartTimer()
		r := j.exec(b, context.Background())
		if r.Code != 0 {
			b.Fatalf("run failed:\n%s", r.Stdout)
		}
		b.StopTimer()
		for _, q := range cf.Requests() {
			all++
			switch {
			case strings.HasSuffix(q.Path, "/assets-upload-session"):
				sessions++
			case strings.HasSuffix(q.Path, "/assets/upload"):
				uploads++
			}
		}
		if got := len(cf.Assets("site")); got != 5000 {
			b.Fatalf("the emulator stored %d assets, want 5000", got)
		}
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(float64(all)/n, "requests/op")
	b.ReportMetric(float64(uploads)/n, "uploads/op")
	b.ReportMetric(float64(sessions)/n, "sessions/op")
}

func mustRead(b *testing.B, p string) []byte {
	b.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		b.Fatal(err)
	}
	return data
}

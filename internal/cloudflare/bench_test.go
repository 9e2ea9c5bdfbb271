package cloudflare

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkCreateVersionStreaming uploads ~9 MiB in 300 modules to a server
// that discards the body. B/op stays far below the bundle size because the
// body is streamed.
func BenchmarkCreateVersionStreaming(b *testing.B) {
	const modules, size = 300, 9 << 20 / 300
	content := bytes.Repeat([]byte("export const x = 1;\n"), size/20+1)[:size]
	uploads := make([]ModuleUpload, modules)
	for i := range uploads {
		uploads[i] = ModuleUpload{
			Name:        fmt.Sprintf("chunks/m%03d.js", i),
			ContentType: "application/javascript+module",
			Open:        func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil },
		}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeResult(w, map[string]any{"id": "v", "number": 1, "created_on": "2026-01-01T00:00:00Z"})
	})
	c, _, _ := newTestClient(b, h)
	in := VersionInput{MainModule: uploads[0].Name, Modules: uploads, CompatibilityDate: "2026-01-01",
		Annotations: map[string]string{AnnotationTag: "bench"}}
	b.SetBytes(int64(modules * size))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.CreateVersion(b.Context(), "w", in); err != nil {
			b.Fatal(err)
		}
	}
}

package bundle

import (
	"compress/gzip"
	"crypto/sha256"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchRealDir points the *Real benchmarks at a folder of real JavaScript (a framework's build
// output, node_modules included), e.g. OpenNext's .open-next: go test -run '^$' -bench Real
// -bench.realdir DIR ./internal/bundle/. Without it they are skipped.
var benchRealDir = flag.String("bench.realdir", "", "folder of real .js/.mjs files for the *Real benchmarks")

func realSources(b *testing.B) ([][]byte, int64) {
	b.Helper()
	if *benchRealDir == "" {
		b.Skip("set -bench.realdir")
	}
	var srcs [][]byte
	var total int64
	err := filepath.WalkDir(*benchRealDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !(strings.HasSuffix(p, ".js") || strings.HasSuffix(p, ".mjs")) {
			return err
		}
		data, err := os.ReadFile(p)
		srcs = append(srcs, data)
		total += int64(len(data))
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return srcs, total
}

// BenchmarkScanImportsReal is the import scan over real code.
func BenchmarkScanImportsReal(b *testing.B) {
	srcs, total := realSources(b)
	benchEach(b, srcs, total, func(src []byte) { ScanImports(src) })
}

// BenchmarkDigestGzipReal is what Collect does to every module besides the scan (SHA-256 and
// the gzip size, compress/gzip at the default level), over the same files: the scan's share
// of the per-byte work is ScanImportsReal / (ScanImportsReal + DigestGzipReal).
func BenchmarkDigestGzipReal(b *testing.B) {
	srcs, total := realSources(b)
	benchEach(b, srcs, total, func(src []byte) {
		_ = sha256.Sum256(src)
		zw := gzip.NewWriter(io.Discard)
		_, _ = zw.Write(src)
		_ = zw.Close()
	})
}

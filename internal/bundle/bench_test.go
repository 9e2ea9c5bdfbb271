package bundle

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeLargeBundle writes a realistic-worst-case build output below dir/dist: index.js plus
// n-1 modules of about size bytes each, half random .bin (incompressible) and half base64 text
// in .js (compresses to about 75 %). Deterministic, so runs are comparable.
func writeLargeBundle(tb testing.TB, dir string, n, size int) {
	tb.Helper()
	r := rand.New(rand.NewPCG(uint64(n), uint64(size)))
	files := map[string]string{"dist/index.js": "export default { fetch() { return new Response('ok') } }\n"}
	for i := 1; i < n; i++ {
		raw := make([]byte, size)
		for j := range raw {
			raw[j] = byte(r.Uint32())
		}
		if i%2 == 0 {
			files[fmt.Sprintf("dist/chunks/%03d.bin", i)] = string(raw)
		} else {
			text := base64.StdEncoding.EncodeToString(raw[:size*3/4])
			files[fmt.Sprintf("dist/chunks/%03d.js", i)] = "export default \"" + text + "\";\n"
		}
	}
	writeTree(tb, dir, files)
}

// writeSiblingTree writes n small files in a deep-ish tree below dir/src, which `dist/**` must never visit.
func writeSiblingTree(tb testing.TB, dir string, n int) {
	tb.Helper()
	files := make(map[string]string, n)
	for i := range n {
		files[fmt.Sprintf("src/pkg%03d/mod%02d/file%04d.ts", i%200, i%17, i)] = "export const x = 1;\n"
	}
	writeTree(tb, dir, files)
}

// TestCollectStreamsFiles proves Collect never holds the bundle in memory: collecting a 9 MiB,
// 300-module bundle allocates far less than 9 MiB in total (gzip state + one read buffer).
// It is deliberately not parallel: runtime.MemStats.TotalAlloc is process-wide, and top-level
// parallel tests only start after the sequential ones finish, so nothing else allocates meanwhile.
func TestCollectStreamsFiles(t *testing.T) {
	dir := t.TempDir()
	writeLargeBundle(t, dir, 300, 31<<10)
	opts := Options{Dir: dir, Patterns: "dist/**"}

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b, err := Collect(context.Background(), opts)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)

	require.Len(t, b.Modules, 300)
	require.Greater(t, b.RawBytes, int64(8<<20), "the bundle is about 9 MiB")
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("raw %d bytes, gzip %d bytes, allocated %d bytes", b.RawBytes, b.GzipBytes, allocated)
	assert.Less(t, allocated, uint64(3<<20), "Collect allocated %d bytes for a %d-byte bundle", allocated, b.RawBytes)
}

// BenchmarkCollect measures a 300-module, ~9 MiB bundle (about 8 MiB gzip), reading and
// compressing every byte once.
func BenchmarkCollect(b *testing.B) {
	dir := b.TempDir()
	writeLargeBundle(b, dir, 300, 31<<10)
	opts := Options{Dir: dir, Patterns: "dist/**"}
	b.ReportAllocs()
	for b.Loop() {
		bundle, err := Collect(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(bundle.RawBytes)
	}
}

// BenchmarkCollectWithSiblingTree compares collecting a small `dist/**` bundle alone and next to
// a 100,000-file sibling source tree: the times should be about equal, because only
// dist/ is walked.
func BenchmarkCollectWithSiblingTree(b *testing.B) {
	plain := b.TempDir()
	writeLargeBundle(b, plain, 20, 1<<10)
	withSiblings := b.TempDir()
	writeLargeBundle(b, withSiblings, 20, 1<<10)
	writeSiblingTree(b, withSiblings, 100000)

	for _, bc := range []struct {
		name string
		dir  string
	}{{"dist-only", plain}, {"sibling-100000", withSiblings}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := Options{Dir: bc.dir, Patterns: "dist/**"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Collect(context.Background(), opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestCollectSkipsSiblingTree is the functional counterpart of the sibling benchmark.
func TestCollectSkipsSiblingTree(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeLargeBundle(t, dir, 5, 100)
	writeSiblingTree(t, dir, 500)
	var visited []string
	b, err := Collect(context.Background(), Options{
		Dir: dir, Patterns: "dist/**",
		visitDir: func(rel string) { visited = append(visited, rel) },
	})
	require.NoError(t, err)
	assert.Len(t, b.Modules, 5)
	assert.Equal(t, []string{"dist", "dist/chunks"}, visited)
}

// writeHeavyDeps adds n files under node_modules/ and n/10 under .git/ of dir.
func writeHeavyDeps(tb testing.TB, dir string, n int) {
	tb.Helper()
	files := make(map[string]string, n+n/10)
	for i := range n {
		files[fmt.Sprintf("node_modules/pkg%03d/lib/file%05d.js", i%500, i)] = "module.exports = 1;\n"
	}
	for i := range n / 10 {
		files[fmt.Sprintf(".git/objects/%02x/obj%05d.js", i%256, i)] = "x"
	}
	writeTree(tb, dir, files)
}

// BenchmarkGlobPrunesDependencies compares `**/*.js` over a project alone and with 100,000
// files in node_modules/ (and 10,000 in .git/): about equal, because those directories are
// pruned without being walked.
func BenchmarkGlobPrunesDependencies(b *testing.B) {
	plain := b.TempDir()
	writeLargeBundle(b, plain, 20, 1<<10)
	heavy := b.TempDir()
	writeLargeBundle(b, heavy, 20, 1<<10)
	writeHeavyDeps(b, heavy, 100000)
	for _, bc := range []struct {
		name string
		dir  string
	}{{"project-only", plain}, {"node_modules-100000", heavy}} {
		b.Run(bc.name, func(b *testing.B) {
			opts := Options{Dir: bc.dir, Patterns: "**/*.js"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Collect(context.Background(), opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestGlobStarStarPrunesDependencies is the functional counterpart: `**/*.js` never visits
// node_modules/ or .git/.
func TestGlobStarStarPrunesDependencies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeLargeBundle(t, dir, 5, 100)
	writeHeavyDeps(t, dir, 200)
	var visited []string
	b, err := Collect(context.Background(), Options{
		Dir: dir, Patterns: "**/*.js",
		visitDir: func(rel string) { visited = append(visited, rel) },
	})
	require.NoError(t, err)
	assert.NotEmpty(t, b.Modules)
	for _, v := range visited {
		assert.NotContains(t, v, "node_modules")
		assert.NotContains(t, v, ".git")
	}
	for _, m := range b.Modules {
		assert.NotContains(t, m.RelPath, "node_modules")
	}
}

// largeBundleSources are the JavaScript modules of the BenchmarkCollect bundle (150 modules,
// about 6 MiB) and their total size.
func largeBundleSources(b *testing.B) ([][]byte, int64) {
	b.Helper()
	dir := b.TempDir()
	writeLargeBundle(b, dir, 300, 31<<10)
	bundle, err := Collect(context.Background(), Options{Dir: dir, Patterns: "dist/**"})
	if err != nil {
		b.Fatal(err)
	}
	var srcs [][]byte
	var total int64
	for _, m := range bundle.Modules {
		if m.ContentType == TypeESModule {
			data, err := os.ReadFile(m.Path)
			if err != nil {
				b.Fatal(err)
			}
			srcs = append(srcs, data)
			total += int64(len(data))
		}
	}
	return srcs, total
}

// benchEach runs fn over every source per iteration, reporting throughput over total bytes.
func benchEach(b *testing.B, srcs [][]byte, total int64, fn func([]byte)) {
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, src := range srcs {
			fn(src)
		}
	}
}

// BenchmarkScanImports measures the import scan alone over the JavaScript modules of the
// BenchmarkCollect bundle, to compare with BenchmarkCollect: the scan must stay a small part of
// a dry run.
func BenchmarkScanImports(b *testing.B) {
	srcs, total := largeBundleSources(b)
	benchEach(b, srcs, total, func(src []byte) { ScanImports(src) })
}

// BenchmarkNoteProcess measures the search for the process type tag over the same modules as
// BenchmarkScanImports: it runs beside the import scan on every JavaScript module and must stay
// as small.
func BenchmarkNoteProcess(b *testing.B) {
	srcs, total := largeBundleSources(b)
	c := &collector{}
	benchEach(b, srcs, total, func(src []byte) { c.noteProcess("m.js", src) })
}

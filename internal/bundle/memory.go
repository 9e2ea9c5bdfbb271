package bundle

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"strings"
)

// InputBundle is the `bundle` input: bundling the entry with esbuild.
const InputBundle = "bundle"

// MemoryModule is a module built in process (a bundle's output), held in memory.
type MemoryModule struct {
	Name        string
	ContentType string
	Content     []byte
}

// AddMemory puts in-memory modules into b (replacing modules of the same name, e.g. a built
// entry that a bundle replaces), makes main the main module, and measures the result again:
// sizes, gzip size and digest over every module, and the gzip limit (0 means
// DefaultMaxGzipBytes). Files on disk are read once more for the gzip size.
func (b *Bundle) AddMemory(main string, mods []MemoryModule, maxGzipBytes int64) error {
	replaced := map[string]bool{}
	for _, m := range mods {
		if m.Name == "" || len(m.Content) == 0 {
			return fmt.Errorf("bundled module %q is empty", m.Name)
		}
		replaced[m.Name] = true
	}
	kept := b.Modules[:0:0]
	for _, m := range b.Modules {
		if !replaced[m.Name] {
			kept = append(kept, m)
		}
	}
	for _, m := range mods {
		kept = append(kept, Module{
			Name: m.Name, RelPath: m.Name, ContentType: m.ContentType,
			Size: int64(len(m.Content)), SHA256: sha256.Sum256(m.Content), Content: m.Content,
		})
	}
	slices.SortFunc(kept, func(x, y Module) int { return cmp.Compare(x.Name, y.Name) })
	b.Modules = kept
	b.MainModule = main
	b.MainNote = ""

	counter := &countingWriter{}
	gz := gzip.NewWriter(counter)
	b.RawBytes = 0
	for _, m := range b.Modules {
		r, err := m.Open()
		if err != nil {
			return err
		}
		_, err = io.Copy(gz, r)
		r.Close()
		if err != nil {
			return err
		}
		b.RawBytes += m.Size
	}
	if err := gz.Close(); err != nil {
		return fmt.Errorf("failed to measure bundle size: %w", err)
	}
	b.GzipBytes = counter.n
	b.Digest = ContentDigest(b.MainModule, b.DigestEntries())
	if maxGzipBytes <= 0 {
		maxGzipBytes = DefaultMaxGzipBytes
	}
	if b.GzipBytes > maxGzipBytes {
		largest := slices.Clone(b.Modules)
		slices.SortFunc(largest, func(x, y Module) int { return cmp.Or(cmp.Compare(y.Size, x.Size), cmp.Compare(x.Name, y.Name)) })
		var names []string
		for _, m := range largest[:min(5, len(largest))] {
			names = append(names, fmt.Sprintf("%s (%s)", m.Name, mib(m.Size)))
		}
		return inputErr(InputBundle, newKindError(ErrBundleTooLarge,
			"the bundled Worker is %s gzip-compressed (%d bytes, %s uncompressed), over the limit of %s; Cloudflare's limit is 10 MiB compressed on the paid plan (3 MB on the free plan). Largest modules: %s. Bundle less: check which packages the entry pulls in (the plan lists them), enable minify, or move large data to static assets",
			mib(b.GzipBytes), b.GzipBytes, mib(b.RawBytes), mib(maxGzipBytes), strings.Join(names, ", ")))
	}
	return nil
}

// memoryReader serves an in-memory module.
type memoryReader struct{ *bytes.Reader }

func (memoryReader) Close() error { return nil }

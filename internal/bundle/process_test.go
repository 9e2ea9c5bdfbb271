package bundle

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const isNodeIdiom = "const isNode = typeof process !== 'undefined' && Object.prototype.toString.call(process) === '[object process]';\n"

// TestCollectFindsProcessTypeTag: only modules reachable from the main module through its
// imports count, and an upload that assigns its own globalThis.process counts as none.
func TestCollectFindsProcessTypeTag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{name: "static import chain", files: map[string]string{
			"dist/index.js":                "import { a } from './chunks/a.mjs';\nexport default a;\n",
			"dist/chunks/a.mjs":            "export { b as a } from './astro/server.mjs';\n",
			"dist/chunks/astro/server.mjs": isNodeIdiom + "export const b = isNode;\n",
		}, want: []string{"chunks/astro/server.mjs"}},
		{name: "in the entry, minified with double quotes", files: map[string]string{
			"dist/index.js": `const n=typeof process<"u"&&Object.prototype.toString.call(process)==="[object process]";export default n;`,
		}, want: []string{"index.js"}},
		{name: "through import() of a literal path", files: map[string]string{
			"dist/index.js": "export default () => import('./page.mjs');\n",
			"dist/page.mjs": isNodeIdiom,
		}, want: []string{"page.mjs"}},
		{name: "absent", files: map[string]string{
			"dist/index.js": "export default {};\n",
		}},
		{name: "only in a module nothing imports", files: map[string]string{
			"dist/index.js":  "export default {};\n",
			"dist/stray.mjs": isNodeIdiom,
		}},
		{name: "the upload installs its own process", files: map[string]string{
			"dist/index.js": "import './poly.mjs';\n" + isNodeIdiom + "export default isNode;\n",
			"dist/poly.mjs": "globalThis.process = { env: {} };\n",
		}},
		{name: "?? = and property writes are not a replacement", files: map[string]string{
			"dist/index.js": "globalThis.process ??= {}; globalThis.process.env ??= {}; if (globalThis.process == null) {}\n" + isNodeIdiom + "export default isNode;\n",
		}, want: []string{"index.js"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, tt.files)
			b, err := Collect(context.Background(), Options{Dir: dir, ConfigMain: "dist/index.js"})
			require.NoError(t, err)
			assert.Equal(t, tt.want, b.ProcessTypeTag)
		})
	}
}

func TestAssignsGlobalProcess(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]bool{
		"globalThis.process = p;":                              true,
		"globalThis.process=p":                                 true,
		"globalThis.process\t= p":                              true,
		"globalThis.process ??= {}":                            false,
		"globalThis.process === p":                             false,
		"globalThis.process.env = {}":                          false,
		"globalThis.process":                                   false,
		"globalThis.process ":                                  false,
		"x; globalThis.process ??= {}; globalThis.process = y": true,
	} {
		assert.Equal(t, want, assignsGlobalProcess([]byte(src)), src)
	}
}

func FuzzAssignsGlobalProcess(f *testing.F) {
	f.Add([]byte("globalThis.process = p;"))
	f.Add([]byte("globalThis.process ??= {}"))
	f.Add([]byte("globalThis.processglobalThis.process="))
	f.Fuzz(func(t *testing.T, data []byte) {
		got := assignsGlobalProcess(data)
		if got && !bytes.Contains(data, globalProcess) {
			t.Fatalf("an assignment found without %q", globalProcess)
		}
	})
}

package esbundle

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

func project(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", name))
	require.NoError(t, err)
	return dir
}

// render is the golden form of a result: the module listing, the summary and the main module.
func render(r *Result) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "main: %s\n", r.Main)
	for _, m := range r.Modules {
		src := ""
		if m.Source != "" {
			src = "  <- " + m.Source
		}
		fmt.Fprintf(&sb, "module %s  %s  %d bytes%s\n", m.Name, m.ContentType, len(m.Content), src)
	}
	s := r.Summary
	s.Warnings = nil
	j, _ := json.MarshalIndent(s, "", "  ")
	fmt.Fprintf(&sb, "summary %s\n", j)
	for _, w := range r.Summary.Warnings {
		fmt.Fprintf(&sb, "warning %s\n", w)
	}
	fmt.Fprintf(&sb, "--- %s ---\n%s", r.Main, r.Modules[0].Content)
	return sb.String()
}

func TestBundleGolden(t *testing.T) {
	tests := []struct {
		name    string
		project string
		entry   string
		opts    func(*Options)
	}{
		{name: "ts-wasm-txt", project: "ts-wasm-txt", entry: "src/index.ts"},
		{name: "nodecompat", project: "nodecompat", entry: "src/index.ts", opts: func(o *Options) {
			o.CompatibilityFlags = []string{"nodejs_compat"}
		}},
		{name: "durable-object", project: "durable-object", entry: "src/index.ts"},
		{name: "bare-package", project: "bare-package", entry: "src/index.js"},
		{name: "unenv-polyfills", project: "unenv", entry: "src/index.js", opts: func(o *Options) {
			o.CompatibilityDate = "2025-01-01"
			o.CompatibilityFlags = []string{"nodejs_compat"}
		}},
		{name: "native-os-and-process", project: "unenv", entry: "src/index.js", opts: func(o *Options) {
			o.CompatibilityDate = "2026-03-01"
			o.CompatibilityFlags = []string{"nodejs_compat"}
		}},
		{name: "define-alias-minify", project: "bare-package", entry: "src/index.js", opts: func(o *Options) {
			o.Define = map[string]string{"__MODE__": `"defined"`}
			o.Alias = map[string]string{"tiny-pkg": "./node_modules/tiny-pkg/node.js"}
			o.Minify = true
		}},
		{name: "keep-names-sourcemap", project: "durable-object", entry: "src/index.ts", opts: func(o *Options) {
			o.KeepNames = true
			o.SourceMap = true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Entry: tt.entry, ProjectDir: project(t, tt.project), CompatibilityDate: "2025-06-01"}
			if tt.opts != nil {
				tt.opts(&opts)
			}
			r, err := Bundle(opts)
			require.NoError(t, err)
			got := render(r)
			golden := filepath.Join("testdata", "golden", tt.name+".txt")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./internal/esbundle -update")
			assert.Equal(t, string(want), got)
		})
	}
}

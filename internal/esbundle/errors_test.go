package esbundle

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBundleErrors(t *testing.T) {
	tests := []struct {
		entry string
		flags []string
		want  Message
	}{
		{entry: "src/missing-package.js", want: Message{File: "src/missing-package.js", Line: 1, Column: 19,
			Text: `Could not resolve "not-installed"`, Hint: "the package is not installed in the project's node_modules: run npm ci (or your package manager's install) before this step"}},
		{entry: "src/missing-file.ts", want: Message{File: "src/missing-file.ts", Line: 1, Column: 20,
			Text: `Could not resolve "./helper"`, Hint: "no such file next to the importing module"}},
		{entry: "src/bare-builtin.js", want: Message{File: "src/bare-builtin.js", Line: 1, Column: 24,
			Text: `Could not resolve "buffer"`, Hint: `"buffer" is a Node.js built-in module: add the nodejs_compat compatibility flag (with a compatibility date on or after 2024-09-23), or move the compatibility date to 2026-08-04 or later (Node.js compatibility is on by default from then), to import it without the node: prefix`}},
		{entry: "src/syntax.ts", want: Message{File: "src/syntax.ts", Line: 3, Column: 23, Text: `Unexpected ";"`}},
		{entry: "src/old-os.js", flags: []string{"nodejs_compat"}, want: Message{File: "src/old-os.js", Line: 1, Column: 16,
			Text: `workerd does not provide "node:os" at compatibility date 2025-06-01; install @cloudflare/unenv-preset and unenv in the project (npm install -D @cloudflare/unenv-preset unenv) so it is polyfilled as wrangler does, or move the compatibility date forward`}},
		{entry: "src/missing-wasm.js", want: Message{File: "src/missing-wasm.js", Line: 1, Column: 17}},
		{entry: "src/nothing.js", want: Message{Text: `entry "src/nothing.js" is not a readable file`}},
	}
	for _, tt := range tests {
		t.Run(tt.entry, func(t *testing.T) {
			_, err := Bundle(Options{Entry: tt.entry, ProjectDir: project(t, "errors"), CompatibilityDate: "2025-06-01", CompatibilityFlags: tt.flags})
			var be *Error
			require.True(t, errors.As(err, &be), "error %v", err)
			require.Len(t, be.Messages, 1)
			got := be.Messages[0]
			got.LineText = ""
			if tt.want.Text == "" {
				got.Text, got.Hint = "", ""
			}
			assert.Equal(t, tt.want, got)
			assert.Contains(t, err.Error(), tt.entry)
		})
	}
}

func TestNodeCompatMode(t *testing.T) {
	tests := []struct {
		date  string
		flags []string
		want  NodeCompatMode
	}{
		{"2025-01-01", nil, NodeCompatNone},
		{"2024-09-22", []string{"nodejs_compat"}, NodeCompatV1},
		{"2024-09-23", []string{"nodejs_compat"}, NodeCompatV2},
		{"2025-01-01", []string{"nodejs_compat", "no_nodejs_compat_v2"}, NodeCompatV1},
		{"2023-01-01", []string{"nodejs_compat_v2"}, NodeCompatV2},
		{"2025-01-01", []string{"nodejs_als"}, NodeCompatALS},
		// From 2026-08-04 the date alone turns both on; each flag has its own opt-out.
		{"2026-08-03", nil, NodeCompatNone},
		{"2026-08-04", nil, NodeCompatV2},
		{"2026-11-01", []string{"nodejs_compat"}, NodeCompatV2},
		{"2026-11-01", []string{"no_nodejs_compat_v2"}, NodeCompatV1},
		{"2026-11-01", []string{"no_nodejs_compat", "no_nodejs_compat_v2"}, NodeCompatNone},
		{"2026-11-01", []string{"no_nodejs_compat", "no_nodejs_compat_v2", "nodejs_als"}, NodeCompatALS},
		{"2026-11-01", []string{"no_nodejs_compat"}, NodeCompatV2},
		{"2026-11-01", []string{"no_nodejs_compat", "no_nodejs_compat_v2", "nodejs_compat_v2"}, NodeCompatV2},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, nodeCompatMode(tt.date, tt.flags), "%s %v", tt.date, tt.flags)
	}
}

func TestNodeEnv(t *testing.T) {
	tests := []struct {
		name       string
		date       string
		flags      []string
		native     []string
		alias      map[string]string
		inject     []string
		polyfilled bool
	}{
		{name: "2025-01-01", date: "2025-01-01",
			native: []string{"buffer", "crypto", "events", "path/posix", "sys"},
			alias: map[string]string{"os": "unenv/node/os", "fs": "unenv/node/fs", "http": "unenv/node/http",
				"_http_agent": "unenv/mock/proxy-cjs", "process": "@cloudflare/unenv-preset/node/process", "console": "@cloudflare/unenv-preset/node/console"},
			inject: []string{"console", "process"}, polyfilled: true},
		{name: "http by flag", date: "2025-01-01", flags: []string{"enable_nodejs_http_modules"},
			native: []string{"http", "https", "_http_agent"}, alias: map[string]string{"_http_server": "unenv/mock/proxy-cjs"},
			inject: []string{"console", "process"}, polyfilled: true},
		{name: "2025-10-01", date: "2025-10-01",
			native: []string{"os", "fs", "fs/promises", "http", "_http_server", "http2", "console", "vm"},
			alias:  map[string]string{"process": "@cloudflare/unenv-preset/node/process", "v8": "unenv/node/v8"},
			inject: []string{"process"}, polyfilled: true},
		{name: "os disabled", date: "2025-10-01", flags: []string{"disable_nodejs_os_module"},
			alias: map[string]string{"os": "unenv/node/os"}, inject: []string{"process"}, polyfilled: true},
		{name: "2026-03-17", date: "2026-03-17",
			native: []string{"process", "perf_hooks", "v8", "child_process", "readline/promises", "sqlite"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newNodeEnv(tt.date, tt.flags)
			for _, m := range tt.native {
				assert.True(t, env.native[m], "%s native", m)
				assert.NotContains(t, env.alias, m)
			}
			for m, to := range tt.alias {
				assert.False(t, env.native[m], "%s not native", m)
				assert.Equal(t, to, env.alias[m], m)
			}
			got := []string{}
			for g := range env.inject {
				got = append(got, g)
			}
			assert.ElementsMatch(t, tt.inject, got)
			assert.Equal(t, tt.polyfilled, len(env.polyfills) > 0)
		})
	}
}

func TestIsSourceFile(t *testing.T) {
	assert.True(t, IsSourceFile("src/index.TS"))
	assert.True(t, IsSourceFile("a.mts"))
	assert.False(t, IsSourceFile("dist/index.mjs"))
}

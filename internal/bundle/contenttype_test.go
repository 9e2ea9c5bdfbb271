package bundle

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestContentType(t *testing.T) {
	t.Parallel()

	cases := []struct {
		name    string
		file    string
		want    string
		wantErr string
	}{
		{name: "js", file: "index.js", want: TypeESModule},
		{name: "mjs nested", file: "lib/util.mjs", want: TypeESModule},
		{name: "upper-case extension", file: "INDEX.JS", want: TypeESModule},
		{name: "cjs", file: "legacy.cjs", want: TypeCommonJS},
		{name: "wasm", file: "add.wasm", want: TypeWasm},
		{name: "source map", file: "index.mjs.map", want: TypeSourceMap},
		{name: "txt", file: "greeting.txt", want: TypeText},
		{name: "html", file: "page.html", want: TypeText},
		{name: "sql", file: "schema.sql", want: TypeText},
		{name: "bin", file: "data.bin", want: TypeData},
		{name: "python", file: "src/entry.py", want: TypePython},
		{name: "requirements", file: "requirements.txt", want: TypePythonRequirement},
		{name: "nested requirements", file: "py/requirements.txt", want: TypePythonRequirement},
		{name: "requirements is matched exactly", file: "dev-requirements.txt", want: TypeText},
		{name: "json", file: "dist/data.json", wantErr: `file "dist/data.json" has extension ".json"`},
		{name: "typescript", file: "src/index.ts", wantErr: `".ts"`},
		{name: "no extension", file: "dist/_headers", wantErr: `file "dist/_headers" has no file extension`},
		{name: "dot file only", file: ".js", wantErr: "has no file extension"},
		{name: "trailing dot", file: "a.", wantErr: `has extension "."`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ContentType(tc.file)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrUnsupportedType)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.Contains(t, err.Error(), ".bin, .cjs, .html, .js, .map, .mjs, .py, .sql, .txt, .wasm and requirements.txt")
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestSupportedExtensionsMatchTable(t *testing.T) {
	t.Parallel()
	exts := SupportedExtensions()
	require.Len(t, exts, len(extensionTypes))
	assert.True(t, slices.IsSorted(exts))
	for _, ext := range exts {
		_, ok := extensionTypes[ext]
		assert.True(t, ok, "extension %q listed but not mapped", ext)
	}
}

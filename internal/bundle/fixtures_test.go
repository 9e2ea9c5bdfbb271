package bundle

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFixtureWasm checks that the checked-in add.wasm is a well-formed module (magic, version 1,
// sections in order with exact lengths) exporting a function named "add" of type (i32,i32)->i32.
func TestFixtureWasm(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join(fixtureDir(t, "esm-multi"), "dist", "add.wasm"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(data), 8)
	assert.Equal(t, []byte("\x00asm"), data[:4], "magic")
	assert.Equal(t, []byte{1, 0, 0, 0}, data[4:8], "version 1")

	sections := map[byte][]byte{}
	var lastID byte
	for rest := data[8:]; len(rest) > 0; {
		id := rest[0]
		size, n := uleb(t, rest[1:])
		require.Greater(t, id, lastID, "sections in order, no duplicates")
		lastID = id
		body := rest[1+n:]
		require.GreaterOrEqual(t, len(body), int(size), "section %d length", id)
		sections[id] = body[:size]
		rest = body[size:]
	}
	assert.Equal(t, []byte{0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f}, sections[1], "type section: (i32, i32) -> i32")
	assert.Equal(t, []byte{0x01, 0x00}, sections[3], "one function of type 0")
	assert.Equal(t, []byte{0x01, 0x03, 'a', 'd', 'd', 0x00, 0x00}, sections[7], `export "add" = func 0`)
	assert.Equal(t, []byte{0x01, 0x07, 0x00, 0x20, 0x00, 0x20, 0x01, 0x6a, 0x0b}, sections[10], "body: local.get 0, local.get 1, i32.add, end")
}

func uleb(t *testing.T, b []byte) (uint32, int) {
	t.Helper()
	var v uint32
	for i := 0; i < 5 && i < len(b); i++ {
		v |= uint32(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	t.Fatal("bad LEB128")
	return 0, 0
}

// TestFixtureSourceMap checks that index.mjs.map is a version-3 source map for index.mjs whose
// mappings decode to segments pointing into its single source and within the generated file.
func TestFixtureSourceMap(t *testing.T) {
	t.Parallel()
	dir := fixtureDir(t, "esm-multi")
	data, err := os.ReadFile(filepath.Join(dir, "dist", "index.mjs.map"))
	require.NoError(t, err)
	var sm struct {
		Version        int      `json:"version"`
		File           string   `json:"file"`
		Sources        []string `json:"sources"`
		SourcesContent []string `json:"sourcesContent"`
		Mappings       string   `json:"mappings"`
		Names          []string `json:"names"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&sm))
	assert.Equal(t, 3, sm.Version)
	assert.Equal(t, "index.mjs", sm.File)
	require.Equal(t, []string{"../src/index.ts"}, sm.Sources)
	src, err := os.ReadFile(filepath.Join(dir, "src", "index.ts"))
	require.NoError(t, err)
	require.Equal(t, []string{string(src)}, sm.SourcesContent)

	gen, err := os.ReadFile(filepath.Join(dir, "dist", "index.mjs"))
	require.NoError(t, err)
	genLines := strings.Split(string(gen), "\n")
	srcLines := strings.Split(string(src), "\n")
	lines := strings.Split(sm.Mappings, ";")
	require.LessOrEqual(t, len(lines), len(genLines))
	var srcIdx, srcLine, srcCol int
	segments := 0
	for _, line := range lines {
		genCol := 0
		if line == "" {
			continue
		}
		for _, seg := range strings.Split(line, ",") {
			f := decodeVLQ(t, seg)
			require.Contains(t, []int{1, 4, 5}, len(f), "segment %q", seg)
			genCol += f[0]
			if len(f) >= 4 {
				srcIdx += f[1]
				srcLine += f[2]
				srcCol += f[3]
				require.Equal(t, 0, srcIdx)
				require.GreaterOrEqual(t, srcLine, 0)
				require.Less(t, srcLine, len(srcLines))
				require.GreaterOrEqual(t, srcCol, 0)
				require.LessOrEqual(t, srcCol, len(srcLines[srcLine]))
			}
			segments++
		}
	}
	assert.Positive(t, segments)
	assert.True(t, strings.HasSuffix(strings.TrimSpace(string(gen)), "//# sourceMappingURL=index.mjs.map"))
}

func decodeVLQ(t *testing.T, s string) []int {
	t.Helper()
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out []int
	value, shift := 0, 0
	for _, c := range s {
		d := strings.IndexRune(alphabet, c)
		require.GreaterOrEqual(t, d, 0, "bad base64 digit %q", c)
		value |= (d & 31) << shift
		if d&32 != 0 {
			shift += 5
			continue
		}
		if value&1 == 1 {
			out = append(out, -(value >> 1))
		} else {
			out = append(out, value>>1)
		}
		value, shift = 0, 0
	}
	require.Zero(t, shift, "unterminated VLQ in %q", s)
	return out
}

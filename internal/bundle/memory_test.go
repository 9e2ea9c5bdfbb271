package bundle

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAddMemory(t *testing.T) {
	b := &Bundle{}
	mods := []MemoryModule{
		{Name: "index.js", ContentType: TypeESModule, Content: []byte("import w from './abc-add.wasm'; export default {}")},
		{Name: "abc-add.wasm", ContentType: TypeWasm, Content: []byte("\x00asm\x01\x00\x00\x00")},
	}
	require.NoError(t, b.AddMemory("index.js", mods, 0))
	require.Len(t, b.Modules, 2)
	assert.Equal(t, "abc-add.wasm", b.Modules[0].Name, "sorted by name")
	assert.Equal(t, "index.js", b.MainModule)
	assert.Equal(t, int64(len(mods[0].Content)+len(mods[1].Content)), b.RawBytes)
	assert.Positive(t, b.GzipBytes)
	assert.Equal(t, ContentDigest("index.js", b.DigestEntries()), b.Digest)
	require.NoError(t, b.Verify(), "in-memory modules have no file to check")
	r, err := b.Modules[1].Open()
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, mods[0].Content, got)

	// Bundling again with other content changes the digest; the same name replaces the module.
	before := b.Digest
	require.NoError(t, b.AddMemory("index.js", []MemoryModule{{Name: "index.js", ContentType: TypeESModule, Content: []byte("export default {a:1}")}}, 0))
	assert.Len(t, b.Modules, 2)
	assert.NotEqual(t, before, b.Digest)
}

func TestAddMemoryTooLarge(t *testing.T) {
	big := make([]byte, 64<<10)
	_, _ = rand.Read(big)
	b := &Bundle{}
	err := b.AddMemory("index.js", []MemoryModule{{Name: "index.js", ContentType: TypeESModule, Content: big}}, 32<<10)
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrBundleTooLarge))
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, InputBundle, ie.Input)
	assert.Contains(t, err.Error(), "the bundled Worker is")
	assert.Contains(t, err.Error(), "index.js (0.06 MiB)")
	assert.False(t, bytes.Contains([]byte(err.Error()), big[:8]))
}

package bundle

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestContentDigestOrderIndependent(t *testing.T) {
	t.Parallel()
	entries := []DigestEntry{
		{Name: "index.mjs", ContentType: TypeESModule, SHA256: sha256.Sum256([]byte("a"))},
		{Name: "lib/util.mjs", ContentType: TypeESModule, SHA256: sha256.Sum256([]byte("b"))},
		{Name: "add.wasm", ContentType: TypeWasm, SHA256: sha256.Sum256([]byte("c"))},
		{Name: "greeting.txt", ContentType: TypeText, SHA256: sha256.Sum256([]byte("d"))},
	}
	want := ContentDigest("index.mjs", entries)
	r := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := append([]DigestEntry(nil), entries...)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		assert.Equal(t, want, ContentDigest("index.mjs", shuffled))
	}
	assert.Equal(t, "index.mjs", entries[0].Name, "the caller's slice is not reordered")
}

func TestContentDigestSensitivity(t *testing.T) {
	t.Parallel()
	base := func() []DigestEntry {
		return []DigestEntry{
			{Name: "index.mjs", ContentType: TypeESModule, SHA256: sha256.Sum256([]byte("a"))},
			{Name: "add.wasm", ContentType: TypeWasm, SHA256: sha256.Sum256([]byte("c"))},
		}
	}
	want := ContentDigest("index.mjs", base())

	cases := []struct {
		name    string
		main    string
		entries func() []DigestEntry
		same    bool
	}{
		{name: "identical", main: "index.mjs", entries: base, same: true},
		{name: "other main module", main: "add.wasm", entries: base},
		{name: "renamed module", main: "index.mjs", entries: func() []DigestEntry { e := base(); e[1].Name = "sum.wasm"; return e }},
		{name: "other content type", main: "index.mjs", entries: func() []DigestEntry { e := base(); e[1].ContentType = TypeData; return e }},
		{name: "other content", main: "index.mjs", entries: func() []DigestEntry { e := base(); e[1].SHA256[0] ^= 1; return e }},
		{name: "extra module", main: "index.mjs", entries: func() []DigestEntry {
			return append(base(), DigestEntry{Name: "x.txt", ContentType: TypeText, SHA256: sha256.Sum256(nil)})
		}},
		{name: "missing module", main: "index.mjs", entries: func() []DigestEntry { return base()[:1] }},
		{name: "no modules", main: "index.mjs", entries: func() []DigestEntry { return nil }},
		{name: "alias content type", main: "index.mjs", same: true, entries: func() []DigestEntry {
			e := base()
			e[0].ContentType = "Text/JavaScript+Module; charset=utf-8"
			return e
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := ContentDigest(tc.main, tc.entries())
			if tc.same {
				assert.Equal(t, want, got)
			} else {
				assert.NotEqual(t, want, got)
			}
		})
	}
}

func TestContentDigestFieldBoundaries(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("x"))
	// Without length prefixes these pairs would encode the same bytes.
	assert.NotEqual(t,
		ContentDigest("a", []DigestEntry{{Name: "bc", ContentType: "d", SHA256: sum}}),
		ContentDigest("ab", []DigestEntry{{Name: "c", ContentType: "d", SHA256: sum}}))
	assert.NotEqual(t,
		ContentDigest("m", []DigestEntry{{Name: "x/", ContentType: "text/plain", SHA256: sum}}),
		ContentDigest("m", []DigestEntry{{Name: "x", ContentType: "/text/plain", SHA256: sum}}))
}

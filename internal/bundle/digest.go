package bundle

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
)

// DigestEntry is what ContentDigest hashes of one module: the same facts whether the module
// comes from Collect or from an existing version read with include=modules.
type DigestEntry struct {
	// Name is the module name.
	Name string
	// ContentType is the module content type; API aliases (text/javascript+module, parameters,
	// case) are normalised before hashing.
	ContentType string
	// SHA256 is the SHA-256 of the module's bytes (decoded, not base64).
	SHA256 [32]byte
}

// digestDomain versions the digest encoding, so a future change cannot collide with this one.
const digestDomain = "workers-deploy bundle digest v1\x00"

// ContentDigest returns the hex SHA-256 of a canonical encoding of the main module name and the
// modules (name, normalised content type, content hash), independent of the order of entries.
// Every string is length-prefixed, so no two different bundles encode alike. It is what the
// pipeline compares to decide whether an existing version with the same tag has the same content.
func ContentDigest(mainModule string, entries []DigestEntry) string {
	sorted := make([]DigestEntry, len(entries))
	for i, e := range entries {
		e.ContentType = canonicalType(e.ContentType)
		sorted[i] = e
	}
	slices.SortFunc(sorted, func(a, b DigestEntry) int {
		return cmp.Or(
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.ContentType, b.ContentType),
			slices.Compare(a.SHA256[:], b.SHA256[:]),
		)
	})
	h := sha256.New()
	h.Write([]byte(digestDomain))
	writeString := func(s string) {
		h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	writeString(mainModule)
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(sorted))))
	for _, e := range sorted {
		writeString(e.Name)
		writeString(e.ContentType)
		h.Write(e.SHA256[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// DigestEntries returns the ContentDigest entries of the bundle's modules.
func (b *Bundle) DigestEntries() []DigestEntry {
	out := make([]DigestEntry, len(b.Modules))
	for i, m := range b.Modules {
		out[i] = DigestEntry{Name: m.Name, ContentType: m.ContentType, SHA256: m.SHA256}
	}
	return out
}

package bundle

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"
)

// Module is one file to upload as a Worker module.
type Module struct {
	// Name is the module name: the path relative to the base of the pattern that matched it,
	// with forward slashes.
	Name string
	// Path is the file's absolute OS path (below the working directory as given, symlinks not
	// resolved).
	Path string
	// RelPath is the path relative to the working directory, slash form.
	RelPath string
	// ContentType is the module content type (one of the Type* constants).
	ContentType string
	// Size is the file size in bytes when Collect read it.
	Size int64
	// SHA256 is the SHA-256 of the bytes Collect read.
	SHA256 [32]byte
	// ModTime is the file's modification time when Collect read it (Verify).
	ModTime time.Time
	// Content holds a module built in memory (AddMemory); Path is then empty and Open
	// serves these bytes.
	Content []byte
}

// Verify checks, without reading any content, that no module file changed
// size or modification time since Collect: called just before the upload, it
// stops a build that is still writing dist/ before any request is sent.
// Open's SHA-256 check still guards the upload itself.
func (b *Bundle) Verify() error {
	for _, m := range b.Modules {
		if m.Content != nil {
			continue
		}
		fi, err := os.Stat(m.Path)
		if err != nil {
			return inputErr(InputModules, wrapKindError(ErrUnreadable, err, "failed to read module file %q", m.RelPath))
		}
		r := &verifyingReader{m: m}
		switch {
		case fi.Size() != m.Size:
			return r.changed(fmt.Sprintf("it now has %d bytes instead of %d", fi.Size(), m.Size))
		case !m.ModTime.IsZero() && !fi.ModTime().Equal(m.ModTime):
			return r.changed("it was modified after it was collected")
		}
	}
	return nil
}

// Open re-reads the module's file from disk, to stream the upload body; call it again for each
// retry. The reader returns an error wrapping ErrModuleChanged, naming the file, instead of
// io.EOF when the bytes differ in size or SHA-256 from what Collect recorded, so a build that
// rewrites dist/ during the upload never ships a mix of old and new files.
func (m Module) Open() (io.ReadCloser, error) {
	if m.Content != nil {
		return memoryReader{bytes.NewReader(m.Content)}, nil
	}
	f, err := os.Open(m.Path)
	if err != nil {
		return nil, wrapKindError(ErrUnreadable, err, "failed to open module file %q", m.RelPath)
	}
	return &verifyingReader{f: f, m: m, h: sha256.New()}, nil
}

// verifyingReader hashes and counts what it returns and checks both at EOF.
type verifyingReader struct {
	f   *os.File
	m   Module
	h   hash.Hash
	n   int64
	err error // sticky terminal error
}

func (r *verifyingReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n, err := r.f.Read(p)
	r.n += int64(n)
	r.h.Write(p[:n])
	if r.n > r.m.Size {
		// Fail before handing out more bytes than were collected.
		r.err = r.changed(fmt.Sprintf("it now has more than %d bytes", r.m.Size))
		return 0, r.err
	}
	switch {
	case errors.Is(err, io.EOF):
		if r.n != r.m.Size {
			r.err = r.changed(fmt.Sprintf("it now has %d bytes instead of %d", r.n, r.m.Size))
			return n, r.err
		}
		var sum [32]byte
		r.h.Sum(sum[:0])
		if !bytes.Equal(sum[:], r.m.SHA256[:]) {
			r.err = r.changed("its SHA-256 differs")
			return n, r.err
		}
		r.err = io.EOF
		return n, io.EOF
	case err != nil:
		r.err = wrapKindError(ErrUnreadable, err, "failed to read module file %q", r.m.RelPath)
		return n, r.err
	}
	return n, nil
}

func (r *verifyingReader) changed(how string) error {
	return inputErr(InputModules, newKindError(ErrModuleChanged,
		"module file %q changed on disk after it was collected (%s); make sure nothing rewrites the build output while the action runs",
		r.m.RelPath, how))
}

func (r *verifyingReader) Close() error { return r.f.Close() }

package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotRegular is wrapped by the error for a name that is not a regular
// file: a directory, a named pipe (FIFO), a device, a socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error for a file larger than the limit of
// its read.
var ErrTooLarge = errors.New("file too large")

// ErrOutsideRoot is wrapped by the error for a name that resolves (after
// symbolic links) outside the root it must stay in.
var ErrOutsideRoot = errors.New("resolves outside the directory it must stay in")

// ErrLoop is wrapped by the error for a symbolic link loop.
var ErrLoop = errors.New("symbolic link loop")

// ErrChanged is wrapped by the error for a file replaced between its check
// and its opening.
var ErrChanged = errors.New("file replaced while being opened")

// Error is a refusal: Detail says why in a sentence that does not name the
// file (callers do, with their own context); Kind is one of the Err values
// (or fs.ErrNotExist) for errors.Is.
type Error struct {
	Kind   error
	Detail string
}

func (e *Error) Error() string { return e.Detail }

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// Check says whether ReadFile(root, name, …) may open name: it resolves
// name like ReadFile (relative to root when not absolute; symbolic links
// followed only when the result lies inside root; with root "" anywhere)
// and returns the resolved path and what it is, without opening it. A
// missing file is an error wrapping fs.ErrNotExist.
func Check(root, name string) (string, fs.FileInfo, error) {
	real, err := resolve(root, name)
	if err != nil {
		return "", nil, err
	}
	// real has no symbolic link left: Lstat is the file itself.
	info, err := os.Lstat(real)
	if err != nil {
		return "", nil, err
	}
	if !info.Mode().IsRegular() {
		return "", nil, notRegular(info.Mode())
	}
	return real, info, nil
}

// ReadFile reads name, at most limit bytes, refusing what Check refuses and
// a file larger than limit (ErrTooLarge). The file is opened without
// following a symbolic link in its last component and without blocking (a
// file swapped for a FIFO after Check cannot hang the read), and must still
// be the file Check saw. A regular file cannot block a read for long, so a
// signal is handled as soon as ReadFile returns.
func ReadFile(root, name string, limit int64) ([]byte, error) {
	f, info, err := open(root, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > limit {
		return nil, tooLarge(limit)
	}
	// The size can change while reading (a growing file): read one byte past
	// the limit to tell.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(limit)
	}
	return data, nil
}

// Open opens name for reading under the rules of ReadFile (a regular file,
// inside root) and returns it with its FileInfo. The caller closes it and
// bounds what it reads.
func Open(root, name string) (*os.File, fs.FileInfo, error) { return open(root, name) }

func open(root, name string) (*os.File, fs.FileInfo, error) {
	real, before, err := Check(root, name)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(real, os.O_RDONLY|openFlags, 0)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, notRegular(info.Mode())
	}
	if !os.SameFile(before, info) {
		f.Close()
		return nil, nil, &Error{Kind: ErrChanged, Detail: "it was replaced while being opened"}
	}
	return f, info, nil
}

// resolve returns the path name stands for with every symbolic link
// resolved, checking it lies inside root (when root is not "").
func resolve(root, name string) (string, error) {
	if name == "" {
		return "", errors.New("no file name")
	}
	p := name
	if root != "" && !filepath.IsAbs(p) {
		p = filepath.Join(root, p)
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if li, lerr := os.Lstat(abs); lerr == nil && li.Mode()&fs.ModeSymlink != 0 {
				return "", &Error{Kind: fs.ErrNotExist, Detail: "it is a symbolic link to a file that does not exist"}
			}
			return "", &Error{Kind: fs.ErrNotExist, Detail: "no such file"}
		}
		if strings.Contains(err.Error(), "too many links") {
			return "", &Error{Kind: ErrLoop, Detail: "it is a symbolic link loop"}
		}
		return "", err
	}
	if root == "" {
		return real, nil
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return "", fmt.Errorf("the directory %q: %w", root, err)
	}
	if !Within(realRoot, real) {
		// The target is named (a path, never content) so that the user can
		// see where the link leads.
		return "", &Error{Kind: ErrOutsideRoot, Detail: fmt.Sprintf("it resolves to %q, outside %q", real, root)}
	}
	return real, nil
}

// Within reports whether path p lies in directory root (or is root); both
// must be absolute and clean.
func Within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func notRegular(m fs.FileMode) error {
	what := "it is not a regular file"
	switch {
	case m.IsDir():
		what = "it is a directory, not a file"
	case m&fs.ModeNamedPipe != 0:
		what = "it is a named pipe (FIFO), not a regular file"
	case m&fs.ModeCharDevice != 0:
		what = "it is a character device, not a regular file"
	case m&fs.ModeDevice != 0:
		what = "it is a device, not a regular file"
	case m&fs.ModeSocket != 0:
		what = "it is a socket, not a regular file"
	}
	return &Error{Kind: ErrNotRegular, Detail: what}
}

func tooLarge(limit int64) error {
	return &Error{Kind: ErrTooLarge, Detail: fmt.Sprintf("it is larger than %s, the most that is read of it", Size(limit))}
}

// Size renders a byte count the way limits are documented: "4 MiB", "512 KiB", "100 bytes".
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

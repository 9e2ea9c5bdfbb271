package bundle

import (
	"errors"
	"fmt"
	"strings"
)

// Names of the action inputs that an *InputError can point at.
const (
	// InputModules is the `modules` input: the globs of built modules.
	InputModules = "modules"
	// InputMainModule is the `main-module` input: the entry module by module name.
	InputMainModule = "main-module"
	// InputConfigMain is `main` from the wrangler configuration: the entry module by file path.
	InputConfigMain = "config main"
	// InputWorkingDirectory is the `working-directory` input: the base of the globs.
	InputWorkingDirectory = "working-directory"
	// InputUploadSourceMaps is the `upload-source-maps` input.
	InputUploadSourceMaps = "upload-source-maps"
)

// Sentinel errors callers can branch on with errors.Is. The messages of the errors that wrap
// them are complete sentences for the user; the sentinels only classify.
var (
	// ErrInvalidPattern reports a malformed, absolute or escaping pattern in `modules`.
	ErrInvalidPattern = errors.New("invalid module pattern")
	// ErrNoMatch reports that the include patterns matched no file at all.
	ErrNoMatch = errors.New("no module matched")
	// ErrUnsupportedType reports a matched file whose extension has no module content type.
	ErrUnsupportedType = errors.New("unsupported module type")
	// ErrEmptyModule reports a matched file of 0 bytes.
	ErrEmptyModule = errors.New("empty module")
	// ErrInvalidModuleName: a file name with a control character or invalid
	// UTF-8.
	ErrInvalidModuleName = errors.New("invalid module name")
	// ErrDuplicateModule reports two different files that would get the same module name.
	ErrDuplicateModule = errors.New("duplicate module name")
	// ErrOutsideWorkingDir reports a pattern or symlink that leads outside the working directory.
	ErrOutsideWorkingDir = errors.New("path escapes the working directory")
	// ErrUnreadable reports a matched file or a directory below a pattern base that cannot be read,
	// or a matched path that is not a regular file.
	ErrUnreadable = errors.New("unreadable module")
	// ErrMainModule reports an entry module that cannot be resolved or is not code.
	ErrMainModule = errors.New("cannot resolve main module")
	// ErrBundleTooLarge reports a bundle whose gzip size exceeds the limit.
	ErrBundleTooLarge = errors.New("bundle too large")
	// ErrModuleChanged reports a module file whose bytes changed after Collect read it.
	ErrModuleChanged = errors.New("module changed on disk after it was collected")
	// ErrImport reports a static import of a relative specifier that names no uploaded module.
	ErrImport = errors.New("import of a module that is not uploaded")
	// ErrBundleNeeded reports an entry that must be bundled before it can run: a source
	// file, or a static import of a package or of a file outside the uploaded tree. The
	// error is a *BundleNeededError.
	ErrBundleNeeded = errors.New("the Worker must be bundled")
)

// BundleNeededError says why the Worker must be bundled, and what to do. Collect returns
// it (inside an *InputError) so that a caller able to bundle can do so instead of failing.
type BundleNeededError struct {
	// Entry is the entry file (slash path relative to the working directory).
	Entry string
	// Importer and Specifier name the first static import that cannot be uploaded as is;
	// both are empty when the entry itself is a source file.
	Importer, Specifier string
	// More counts further such imports.
	More int
	// Outside is true when Specifier is a relative path leading outside the uploaded folder.
	Outside bool
}

// Error says what was found and names the one step to add.
func (e *BundleNeededError) Error() string {
	const step = "add a step before this action that bundles it, `npx wrangler deploy --dry-run --outdir dist`"
	if e.Importer == "" {
		return fmt.Sprintf("the entry %q is a source file that must be bundled, and no built module was found in dist/; %s (the action then uploads dist/, no %q input needed)",
			e.Entry, step, InputModules)
	}
	what, where := fmt.Sprintf("the package %q", e.Specifier), ""
	if e.Outside {
		what, where = fmt.Sprintf("%q", e.Specifier), " (it lies above the entry's folder, or in a hidden or node_modules folder)"
	}
	more := ""
	if e.More > 0 {
		more = fmt.Sprintf(" (and %d more such imports)", e.More)
	}
	return fmt.Sprintf("module %q imports %s%s, which is not uploaded%s: this build output is not bundled and workerd cannot load it. Bundle the Worker: %s, and set input %q to \"dist/**\"",
		e.Importer, what, more, where, step, InputModules)
}

// Unwrap classifies the error as ErrBundleNeeded.
func (e *BundleNeededError) Unwrap() error { return ErrBundleNeeded }

// InputError ties an error to the action input it belongs to (one of the Input* constants),
// so the top level can print an `::error::` annotation that names the input. Its message is
// the wrapped error's message, which already names the input.
type InputError struct {
	// Input is the name of the action input, e.g. InputModules.
	Input string
	// Err is the underlying error.
	Err error
}

// Error returns the wrapped error's message.
func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(input string, err error) error {
	return &InputError{Input: input, Err: err}
}

// kindError is a user-facing message classified by one of the sentinels above, optionally
// carrying the cause (an *fs.PathError and the like) for errors.Is/As.
type kindError struct {
	kind  error
	msg   string
	cause error
}

func (e *kindError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *kindError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

func newKindError(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

func wrapKindError(kind, cause error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...), cause: cause}
}

// maxListedProblems bounds how many per-file problems one error lists, so a misconfigured glob
// over thousands of files still gives a readable annotation.
const maxListedProblems = 10

// problemList is several per-file problems reported together (errors.Join semantics, with the
// message capped at maxListedProblems lines).
type problemList []error

func (p problemList) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "found %d problem(s) with the files matched by input %q:", len(p), InputModules)
	for i, err := range p {
		if i == maxListedProblems {
			fmt.Fprintf(&b, "\n  … and %d more", len(p)-maxListedProblems)
			break
		}
		b.WriteString("\n  - ")
		b.WriteString(err.Error())
	}
	return b.String()
}

func (p problemList) Unwrap() []error { return p }

// quoteList formats up to limit values as a quoted, comma-separated list, noting how many were left out.
func quoteList(values []string, limit int) string {
	var b strings.Builder
	for i, v := range values {
		if i == limit {
			fmt.Fprintf(&b, ", … and %d more", len(values)-limit)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", v)
	}
	return b.String()
}

package bundle

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// Module content types accepted by the Workers API (docs/workers-api.md §6.4).
const (
	// TypeESModule is an ES module (.js, .mjs).
	TypeESModule = "application/javascript+module"
	// TypeCommonJS is a CommonJS module (.cjs).
	TypeCommonJS = "application/javascript"
	// TypeWasm is a compiled WebAssembly module (.wasm).
	TypeWasm = "application/wasm"
	// TypeSourceMap is a source map (.map); it is uploaded but never executed.
	TypeSourceMap = "application/source-map"
	// TypeText is a text module (.txt, .html, .sql).
	TypeText = "text/plain"
	// TypeData is a binary data module (.bin).
	TypeData = "application/octet-stream"
	// TypePython is a Python Worker module (.py).
	TypePython = "text/x-python"
	// TypePythonRequirement is a Python requirements file (requirements.txt).
	TypePythonRequirement = "text/x-python-requirement"
)

// requirementsFile is the base name wrangler uploads as TypePythonRequirement instead of text.
const requirementsFile = "requirements.txt"

// extensionTypes follows wrangler's module rules (docs/workers-api.md §6.4, docs/upload-model.md). The API itself does not enforce extensions; these are conventions.
var extensionTypes = map[string]string{
	".js":   TypeESModule,
	".mjs":  TypeESModule,
	".cjs":  TypeCommonJS,
	".wasm": TypeWasm,
	".map":  TypeSourceMap,
	".txt":  TypeText,
	".html": TypeText,
	".sql":  TypeText,
	".bin":  TypeData,
	".py":   TypePython,
}

// supportedExtensions lists the keys of extensionTypes, sorted, for messages.
var supportedExtensions = []string{".bin", ".cjs", ".html", ".js", ".map", ".mjs", ".py", ".sql", ".txt", ".wasm"}

// SupportedExtensions returns the file extensions that have a module content type, sorted
// (requirements.txt is special-cased by base name), e.g. for a dry-run plan or documentation.
func SupportedExtensions() []string { return slices.Clone(supportedExtensions) }

// ContentType returns the module content type for a module name or slash-separated path, by
// wrangler's conventions. The extension is compared case-insensitively (INDEX.JS is still
// JavaScript); the base name requirements.txt is compared exactly, as wrangler does.
// Any other extension is an ErrUnsupportedType error naming the file.
func ContentType(name string) (string, error) {
	base := path.Base(name)
	if base == requirementsFile {
		return TypePythonRequirement, nil
	}
	ext := strings.ToLower(path.Ext(base))
	if t, ok := extensionTypes[ext]; ok && ext != base {
		return t, nil
	}
	what := "has no file extension"
	if ext != "" && ext != strings.ToLower(base) {
		what = fmt.Sprintf("has extension %q", path.Ext(base))
	}
	return "", newKindError(ErrUnsupportedType,
		"file %q %s, which is not a supported module type (supported: %s and %s)",
		name, what, strings.Join(supportedExtensions, ", "), requirementsFile)
}

// isCodeType reports whether a content type can be a Worker's main module.
func isCodeType(contentType string) bool {
	switch contentType {
	case TypeESModule, TypeCommonJS, TypePython:
		return true
	}
	return false
}

// canonicalType maps the API's alias content types to the ones ContentType returns, drops
// parameters and lower-cases, so a digest over modules read back from the API (include=modules)
// compares equal to one computed locally. Whether the API echoes content types verbatim is
// undocumented (inferred: it does); normalising is the defensive choice.
func canonicalType(contentType string) string {
	t := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	switch t {
	case "text/javascript+module":
		return TypeESModule
	case "text/javascript":
		return TypeCommonJS
	}
	return t
}

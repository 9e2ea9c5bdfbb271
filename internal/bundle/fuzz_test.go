package bundle

import (
	"errors"
	"path"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

func FuzzParsePatterns(f *testing.F) {
	for _, s := range []string{
		"dist/**", "dist/**\n!dist/**/*.map", "dist/*.{js,mjs},out/[a,b]/*", `dist/\[id\].js`, "./a/../b/**",
		"../x", "/abs", `dist\index.js`, "dist/{a", "!", ".output/server/**", "node_modules/**", "a/*/../b",
		"", " , \r\n", "C:/x", "{a/../..,b}/*",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		pats, err := ParsePatterns(input)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Input != InputModules {
				t.Fatalf("error %q is not an *InputError for %q", err, InputModules)
			}
			if !errors.Is(err, ErrInvalidPattern) && !errors.Is(err, ErrOutsideWorkingDir) {
				t.Fatalf("error %q is not classified", err)
			}
			return
		}
		includes := 0
		for _, p := range pats {
			if !p.Exclude {
				includes++
			}
			if p.Raw == "" || strings.TrimSpace(p.Raw) != p.Raw {
				t.Fatalf("raw %q is not trimmed and non-empty", p.Raw)
			}
			if !doublestar.ValidatePattern(p.Glob) {
				t.Fatalf("glob %q of %q is invalid", p.Glob, p.Raw)
			}
			if strings.HasPrefix(p.Glob, "/") || slices.Contains(strings.Split(p.Glob, "/"), "..") ||
				slices.Contains(strings.Split(p.Glob, "/"), ".") || slices.Contains(strings.Split(p.Glob, "/"), "") {
				t.Fatalf("glob %q of %q is not clean", p.Glob, p.Raw)
			}
			if p.Base == "." || strings.HasPrefix(p.Base, "/") || strings.HasSuffix(p.Base, "/") {
				t.Fatalf("base %q of %q is not in slash form without dots", p.Base, p.Raw)
			}
			if p.literal != "" {
				// A file pattern matches exactly its own path, named relative to its base.
				if !doublestar.MatchUnvalidated(p.Glob, p.literal) {
					t.Fatalf("literal %q does not match its own glob %q", p.literal, p.Glob)
				}
				if name, err := moduleName(p.Base, p.literal); !errors.Is(err, ErrInvalidModuleName) && (err != nil || name != path.Base(p.literal)) {
					t.Fatalf("literal %q with base %q gives name %q, %v", p.literal, p.Base, name, err)
				}
			}
		}
		if includes == 0 {
			t.Fatalf("no include pattern accepted from %q", input)
		}
	})
}

func FuzzModuleName(f *testing.F) {
	for _, s := range [][2]string{{"dist", "dist/index.mjs"}, {"", "a/b.js"}, {"dist", "distant/x"}, {".output/server", ".output/server/a.mjs"}, {"a", "a/"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, base, relPath string) {
		name, err := moduleName(base, relPath)
		if err != nil {
			return
		}
		if name == "" || strings.HasPrefix(name, "/") {
			t.Fatalf("empty or absolute name %q from base %q and path %q", name, base, relPath)
		}
		if strings.ContainsFunc(name, unicode.IsControl) || !utf8.ValidString(name) {
			t.Fatalf("name %q has a control character or invalid UTF-8", name)
		}
		joined := name
		if base != "" {
			joined = base + "/" + name
		}
		if joined != relPath {
			t.Fatalf("base %q + name %q != path %q", base, name, relPath)
		}
	})
}

func FuzzContentType(f *testing.F) {
	for _, s := range []string{"index.mjs", "a/requirements.txt", "x.JSON", "", ".", "a.", "dir/", "add.wasm", "a.b.c.map"} {
		f.Add(s)
	}
	known := []string{TypeESModule, TypeCommonJS, TypeWasm, TypeSourceMap, TypeText, TypeData, TypePython, TypePythonRequirement}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := ContentType(name)
		if err != nil {
			if !errors.Is(err, ErrUnsupportedType) || got != "" {
				t.Fatalf("error %v for %q: unclassified or with a type %q", err, name, got)
			}
			return
		}
		if !slices.Contains(known, got) {
			t.Fatalf("unknown type %q for %q", got, name)
		}
		if again, _ := ContentType("f" + strings.ToUpper(path.Ext(name))); path.Base(name) != requirementsFile && again != "" && again != got {
			// The extension alone decides (case-insensitively) for everything but requirements.txt.
			t.Fatalf("type of %q is %q but its extension alone gives %q", name, got, again)
		}
	})
}

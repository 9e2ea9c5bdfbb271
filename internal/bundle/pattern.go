package bundle

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
)

// Pattern is one entry of the `modules` input.
type Pattern struct {
	// Raw is the entry as written, including a leading "!", without surrounding whitespace.
	Raw string
	// Exclude is true for entries that start with "!": they remove matches of every include.
	Exclude bool
	// Base is the static directory before the first segment with a wildcard, slash form,
	// unescaped, "" for the working directory itself. Module names are relative to it.
	// For a pattern without wildcards (one file) it is the file's directory.
	Base string
	// Glob is the cleaned pattern without "!", relative to the working directory, slash form,
	// as given to doublestar.Match against file paths relative to the working directory.
	Glob string

	// literal is the unescaped file path of a pattern without wildcards, "" otherwise.
	literal string
}

// ParsePatterns parses the `modules` input: doublestar globs separated by newlines or by commas
// outside `{…}` alternations and `[…]` classes (so "dist/*.{js,mjs}" stays one pattern), each
// relative to the working directory, a leading "!" marking an exclude. Blank entries are
// ignored. "." and empty segments are dropped and ".." is resolved lexically, so "./dist/**"
// equals "dist/**".
//
// It rejects, with an *InputError for InputModules wrapping ErrInvalidPattern (or
// ErrOutsideWorkingDir for ".." escapes) that names the pattern: an input without any include
// pattern, invalid globs, absolute paths, ".." that leaves the working directory or follows a
// wildcard, backslashes used as path separators, include patterns whose static part lies in
// node_modules or .git, and a pattern without wildcards that names a hidden file (neither can
// ever be uploaded, so saying so beats a silent "no match").
//
// Backslashes: doublestar uses "\" to escape metacharacters, which is needed for real build
// output names such as "dist/\[id\].js", so "\" followed by punctuation is kept as an escape.
// "\" before a letter, digit, ".", "/" or at the end is almost certainly a Windows path
// separator ("dist\index.js"); it is rejected with advice to use "/".
func ParsePatterns(input string) ([]Pattern, error) {
	var (
		patterns []Pattern
		includes int
		errs     []error
	)
	for _, entry := range splitPatternList(input) {
		raw := strings.TrimSpace(entry)
		if raw == "" {
			continue
		}
		p, err := parsePattern(raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !p.Exclude {
			includes++
		}
		patterns = append(patterns, p)
	}
	if len(errs) > 0 {
		return nil, inputErr(InputModules, errors.Join(errs...))
	}
	if includes == 0 {
		what := "is empty"
		if len(patterns) > 0 {
			what = "has only exclude (\"!\") patterns"
		}
		return nil, inputErr(InputModules, newKindError(ErrInvalidPattern,
			"input %q %s; give at least one glob of built modules relative to working-directory, e.g. \"dist/**\"",
			InputModules, what))
	}
	return patterns, nil
}

// splitPatternList splits on newlines, and on commas that are not escaped and not inside
// `{…}` or `[…]`. Brackets are tracked loosely; unbalanced ones are reported by validation.
func splitPatternList(input string) []string {
	var (
		out     []string
		start   int
		depth   int
		inClass bool
	)
	for i := 0; i < len(input); i++ {
		switch c := input[i]; {
		case c == '\\':
			if i+1 < len(input) && input[i+1] != '\n' {
				i++ // keep the escape and the escaped byte together
			}
		case c == '\n':
			out = append(out, input[start:i])
			start, depth, inClass = i+1, 0, false
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
		case c == '{':
			depth++
		case c == '}':
			if depth > 0 {
				depth--
			}
		case c == ',' && depth == 0:
			out = append(out, input[start:i])
			start = i + 1
		}
	}
	return append(out, input[start:])
}

func parsePattern(raw string) (Pattern, error) {
	p := Pattern{Raw: raw}
	glob := raw
	if strings.HasPrefix(glob, "!") {
		p.Exclude = true
		glob = strings.TrimSpace(glob[1:])
		if glob == "" {
			return p, invalidPattern(raw, "\"!\" must be followed by a glob to exclude")
		}
	}
	if err := checkBackslashes(raw, glob); err != nil {
		return p, err
	}
	if isAbsolutePattern(glob) {
		return p, invalidPattern(raw, "it is an absolute path; patterns are relative to working-directory")
	}
	if !doublestar.ValidatePattern(glob) {
		return p, invalidPattern(raw, "it is not a valid doublestar glob (check for unbalanced \"[\" \"]\" or \"{\" \"}\")")
	}
	clean, err := cleanPattern(raw, glob)
	if err != nil {
		return p, err
	}
	p.Glob = clean
	if i := indexMeta(clean); i < 0 {
		p.literal = unescape(clean)
		p.Base = path.Dir(p.literal)
	} else if slash := strings.LastIndexByte(clean[:i], '/'); slash >= 0 {
		p.Base = unescape(clean[:slash])
	}
	if p.Base == "." {
		p.Base = ""
	}
	if p.Exclude {
		return p, nil
	}
	static := p.Base
	if p.literal != "" {
		static = p.literal
	}
	for _, seg := range strings.Split(static, "/") {
		if seg == "node_modules" || seg == ".git" {
			return p, invalidPattern(raw, fmt.Sprintf("files in %s are never uploaded; point the pattern at your build output instead", seg))
		}
	}
	if p.literal != "" && strings.HasPrefix(path.Base(p.literal), ".") {
		return p, invalidPattern(raw, "it names a hidden file, and hidden files are never uploaded; rename the file")
	}
	return p, nil
}

func invalidPattern(raw, why string) error {
	return newKindError(ErrInvalidPattern, "invalid pattern %q in input %q: %s", raw, InputModules, why)
}

// checkBackslashes allows "\" only as an escape before punctuation (see ParsePatterns).
func checkBackslashes(raw, glob string) error {
	for i := 0; i < len(glob); i++ {
		if glob[i] != '\\' {
			continue
		}
		if i+1 >= len(glob) {
			return invalidPattern(raw, "it ends with a backslash; use \"/\" to separate directories")
		}
		c := glob[i+1]
		if c == '/' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80 {
			return invalidPattern(raw, "it contains a backslash used as a path separator; use \"/\" (a backslash only escapes glob characters such as \"\\[\")")
		}
		i++
	}
	return nil
}

// isAbsolutePattern reports "/x" and Windows drive paths ("C:/x", "C:\x"): the action runs on
// Linux, but a pattern copied from a Windows workflow should get a clear error, not "no match".
func isAbsolutePattern(glob string) bool {
	if strings.HasPrefix(glob, "/") {
		return true
	}
	if len(glob) >= 2 && glob[1] == ':' {
		c := glob[0]
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
	}
	return false
}

// cleanPattern drops "." and empty segments and resolves ".." against the static segments
// before it. ".." that would leave the working directory, or that follows a segment with a
// wildcard (its meaning would depend on what the wildcard matched), is an error.
func cleanPattern(raw, glob string) (string, error) {
	segs := strings.Split(glob, "/")
	kept := segs[:0]
	for _, seg := range segs {
		switch seg {
		case "", ".":
			continue
		case "..":
			if len(kept) == 0 {
				return "", newKindError(ErrOutsideWorkingDir,
					"invalid pattern %q in input %q: \"..\" leads outside the working directory; set working-directory to a directory that contains the modules instead",
					raw, InputModules)
			}
			if indexMeta(kept[len(kept)-1]) >= 0 {
				return "", invalidPattern(raw, "\"..\" after a segment with a wildcard is not supported")
			}
			// A "{…}" group may hold "/": a ".." inside one, or right after its end, would cut
			// the group in two instead of leaving a directory.
			if braceDepth(strings.Join(kept, "/")) != 0 || strings.ContainsAny(kept[len(kept)-1], "{}") {
				return "", invalidPattern(raw, "\"..\" inside or right after a \"{…}\" group is not supported; write the path without \"..\"")
			}
			kept = kept[:len(kept)-1]
			continue
		}
		kept = append(kept, seg)
	}
	if len(kept) == 0 {
		return "", invalidPattern(raw, "it names the working directory itself; use \"**\" to match every file below it")
	}
	return strings.Join(kept, "/"), nil
}

// braceDepth is the number of unescaped "{" in s not closed by a "}".
func braceDepth(s string) int {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
			}
		}
	}
	return depth
}

// indexMeta returns the index of the first unescaped doublestar metacharacter, or -1.
func indexMeta(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '*', '?', '[', '{':
			return i
		}
	}
	return -1
}

// unescape removes doublestar escapes from a static path.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// moduleName returns the module name of a file: its path relative to the pattern base, both
// slash form and relative to the working directory.
func moduleName(base, relPath string) (string, error) {
	name := relPath
	if base != "" {
		rest, ok := strings.CutPrefix(relPath, base+"/")
		if !ok {
			return "", fmt.Errorf("failed to name module: file %q is not below base %q", relPath, base)
		}
		name = rest
	}
	if name == "" || name == "." || strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("failed to name module: file %q gives an empty name below base %q", relPath, base)
	}
	// A line break in a name would start a line of its own in the job log
	// (a workflow command); no bundler writes such names.
	if strings.ContainsFunc(relPath, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) || !utf8.ValidString(relPath) {
		return "", newKindError(ErrInvalidModuleName,
			"file %q has a control character (a line break, tab or escape) or invalid UTF-8 in its name; rename it or exclude it with a \"!\" pattern in input %q", relPath, InputModules)
	}
	return name, nil
}

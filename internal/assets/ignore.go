package assets

import (
	"fmt"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// IgnoreFile is the name of the file of ignore rules in the assets directory,
// in gitignore syntax (as wrangler reads it).
const IgnoreFile = ".assetsignore"

// rule is one line of an ignore file.
type rule struct {
	pattern string // doublestar pattern against the slash path from the root
	negate  bool
	dirOnly bool
}

// Ignore is a parsed .assetsignore: gitignore's syntax and semantics, for
// the subset that matters to files — comments, blank lines, `!` negation
// (the last matching rule wins), a trailing `/` for directories only, a
// leading or inner `/` anchoring to the root, `*`, `?`, `[…]` and `**`.
// Patterns are translated to doublestar's syntax (toDoublestar), so what is
// special only to doublestar, such as `{a,b}`, stays literal; a test compares
// the result with `git check-ignore` over generated patterns.
type Ignore struct{ rules []rule }

// ParseIgnore parses the content of an ignore file. Invalid patterns are an
// error naming the line.
func ParseIgnore(content string) (*Ignore, error) {
	ig := &Ignore{}
	for i, written := range strings.Split(content, "\n") {
		line := strings.TrimRight(written, "\r")
		// Trailing spaces are ignored unless escaped (gitignore).
		if !strings.HasSuffix(line, `\ `) {
			line = strings.TrimRight(line, " \t")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := rule{}
		if strings.HasPrefix(line, "!") {
			r.negate, line = true, line[1:]
		} else if strings.HasPrefix(line, `\!`) || strings.HasPrefix(line, `\#`) {
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.dirOnly, line = true, strings.TrimRight(line, "/")
		}
		if line == "" {
			continue
		}
		anchored := strings.Contains(line, "/")
		line = strings.TrimPrefix(line, "/")
		line, ok := toDoublestar(line)
		if !anchored {
			line = "**/" + line
		}
		if !ok || !doublestar.ValidatePattern(line) {
			// Quote the line as written, not the pattern it became ("**/…").
			return nil, fmt.Errorf("%s line %d: invalid pattern %q; fix it (gitignore syntax) or remove the line", IgnoreFile, i+1, strings.TrimSpace(written))
		}
		r.pattern = line
		ig.rules = append(ig.rules, r)
	}
	return ig, nil
}

// Match reports whether the slash path p (relative to the root, no leading
// slash) is ignored. isDir says whether p is a directory. A file inside an
// ignored directory is ignored, as in git.
func (ig *Ignore) Match(p string, isDir bool) bool {
	if ig == nil || len(ig.rules) == 0 {
		return false
	}
	// Git cannot re-include a file whose parent directory is excluded.
	parts := strings.Split(p, "/")
	for i := 1; i < len(parts); i++ {
		if ig.match(strings.Join(parts[:i], "/"), true) {
			return true
		}
	}
	return ig.match(p, isDir)
}

func (ig *Ignore) match(p string, isDir bool) bool {
	ignored := false
	for _, r := range ig.rules {
		if r.dirOnly && !isDir {
			continue
		}
		if ok, _ := doublestar.Match(r.pattern, p); ok {
			ignored = !r.negate
		}
	}
	return ignored
}

// toDoublestar turns one gitignore pattern (without its "!", trailing "/"
// and leading "/") into a doublestar pattern that matches the same paths.
// The two syntaxes differ in what is special: doublestar reads "{a,b}" as
// alternatives, gitignore as the literal name, so braces are escaped; a "]"
// right after "[" or "[!" is a literal member of a gitignore class, so it is
// escaped; "**" is special in gitignore only as a whole path component
// ("**/a", "a/**", "a/**/b"), elsewhere it is "*"; and "a/**" does not
// match "a" itself. ok is false for a pattern
// git never matches: an unclosed "[" or a trailing lone "\".
func toDoublestar(p string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 == len(p) {
				return "", false
			}
			i++
			b.WriteString(escapeLiteral(p[i]))
		case '{', '}':
			b.WriteString(escapeLiteral(c))
		case '*':
			j := i
			for j < len(p) && p[j] == '*' {
				j++
			}
			whole := j-i >= 2 && (i == 0 || p[i-1] == '/') && (j == len(p) || p[j] == '/')
			if whole {
				b.WriteString("**")
			} else {
				b.WriteByte('*')
			}
			i = j - 1
		case '[':
			class, n, ok := gitClass(p[i:])
			if !ok {
				return "", false
			}
			b.WriteString(class)
			i += n - 1
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	// A trailing "/**" matches everything inside, not the directory itself
	// (doublestar's "a/**" matches "a" too).
	if strings.HasSuffix(out, "/**") {
		out += "/*"
	}
	return out, true
}

// gitClass reads the bracket expression at the start of p as git's wildmatch
// does and returns it in doublestar's syntax with its length in p; ok is
// false when it is not closed (git then never matches the pattern).
func gitClass(p string) (string, int, bool) {
	var b strings.Builder
	b.WriteByte('[')
	i := 1
	if i < len(p) && (p[i] == '!' || p[i] == '^') {
		b.WriteByte('!')
		i++
	}
	first := true
	for ; i < len(p); i++ {
		c := p[i]
		switch {
		case c == ']' && !first:
			b.WriteByte(']')
			return b.String(), i + 1, true
		case c == '\\':
			if i+1 == len(p) {
				return "", 0, false
			}
			i++
			b.WriteString(escapeLiteral(p[i]))
		case c == '-':
			b.WriteByte('-') // a range, as in git
		default:
			b.WriteString(escapeLiteral(c))
		}
		first = false
	}
	return "", 0, false
}

// escapeLiteral escapes a byte that doublestar could read as syntax.
func escapeLiteral(c byte) string {
	if strings.IndexByte("\\*?[]{},!^/", c) >= 0 {
		return "\\" + string(c)
	}
	return string(c)
}

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
		if !anchored {
			line = "**/" + line
		}
		if !doublestar.ValidatePattern(line) {
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

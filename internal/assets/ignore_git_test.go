package assets

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// patternAlphabet and nameAlphabet hold the characters gitignore and
// doublestar read differently ({a,b} alternation, escapes, classes,
// negation, anchoring).
const (
	patternAlphabet = "ab{},*?[]!/\\.-"
	nameAlphabet    = "ab{},*?[]!\\.-"
)

// ignoreCase is one generated .assetsignore and the paths checked against it.
type ignoreCase struct {
	content string
	files   []string // regular files
	dirs    []string // their parent directories
}

func genPattern(r *rand.Rand) string {
	n := 1 + r.IntN(6)
	var b strings.Builder
	for range n {
		b.WriteByte(patternAlphabet[r.IntN(len(patternAlphabet))])
	}
	return b.String()
}

func genName(r *rand.Rand) string {
	for {
		n := 1 + r.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteByte(nameAlphabet[r.IntN(len(nameAlphabet))])
		}
		if s := b.String(); s != "." && s != ".." {
			return s
		}
	}
}

// patternFrom makes a pattern likely to match path: parts of it with
// characters replaced by wildcards or special characters, anchored or not,
// negated or directory-only now and then.
func patternFrom(r *rand.Rand, path string) string {
	parts := strings.Split(path, "/")
	from := r.IntN(len(parts))
	to := from + 1 + r.IntN(len(parts)-from)
	p := []byte(strings.Join(parts[from:to], "/"))
	for range r.IntN(3) {
		i := r.IntN(len(p))
		if p[i] != '/' {
			p[i] = "**??{}\\["[r.IntN(8)]
		}
	}
	s := string(p)
	switch r.IntN(6) {
	case 0:
		s = "/" + s
	case 1:
		s = "**/" + s
	case 2:
		s += "/"
	case 3:
		s += "/**"
	}
	if r.IntN(4) == 0 {
		s = "!" + s
	}
	return s
}

func genCase(r *rand.Rand) ignoreCase {
	files := map[string]bool{}
	var paths []string
	for range 6 {
		var parts []string
		for range 1 + r.IntN(3) {
			parts = append(parts, genName(r))
		}
		files[strings.Join(parts, "/")] = true
		paths = append(paths, strings.Join(parts, "/"))
	}
	var lines []string
	for range 1 + r.IntN(3) {
		if r.IntN(2) == 0 {
			lines = append(lines, genPattern(r))
		} else {
			lines = append(lines, patternFrom(r, paths[r.IntN(len(paths))]))
		}
	}
	// A path that is another's parent is a directory, not a file.
	dirs := map[string]bool{}
	for f := range files {
		parts := strings.Split(f, "/")
		for i := 1; i < len(parts); i++ {
			dirs[strings.Join(parts[:i], "/")] = true
		}
	}
	c := ignoreCase{content: strings.Join(lines, "\n") + "\n"}
	for f := range files {
		if !dirs[f] {
			c.files = append(c.files, f)
		}
	}
	for d := range dirs {
		c.dirs = append(c.dirs, d)
	}
	sort.Strings(c.files)
	sort.Strings(c.dirs)
	return c
}

// TestIgnoreMatchesGit: for generated patterns and paths, Ignore.Match
// answers as `git check-ignore` does. Each case is a directory of one
// repository with its own .gitignore (patterns are relative to it), and git
// is asked about every path of every case at once.
func TestIgnoreMatchesGit(t *testing.T) {
	t.Parallel()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	const cases = 400
	r := rand.New(rand.NewPCG(11, 6))
	root := t.TempDir()
	run := func(stdin []byte, args ...string) []byte {
		cmd := exec.Command(git, args...)
		cmd.Dir = root
		cmd.Stdin = bytes.NewReader(stdin)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+root)
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 && len(args) > 0 && args[0] == "check-ignore" {
			return out // exit 1: nothing ignored
		}
		require.NoError(t, err, "git %v: %s", args, out)
		return out
	}
	run(nil, "init", "-q")

	type query struct {
		ig    *Ignore
		c     int
		path  string
		isDir bool
	}
	var queries []query
	var stdin bytes.Buffer
	all := make([]ignoreCase, cases)
	invalid := 0
	for i := range cases {
		c := genCase(r)
		all[i] = c
		ig, err := ParseIgnore(c.content)
		if err != nil {
			// The action refuses a file with a pattern git never matches
			// (an unclosed "[", a trailing "\\"), naming the line. Check
			// that git indeed matches nothing with the refused lines.
			invalid++
			var refused []string
			for _, line := range strings.Split(strings.TrimSuffix(c.content, "\n"), "\n") {
				if _, err := ParseIgnore(line); err != nil {
					refused = append(refused, line)
				}
			}
			require.NotEmpty(t, refused, "%q", c.content)
			c.content = strings.Join(refused, "\n") + "\n"
			all[i] = c
			ig = &Ignore{} // ignores nothing
		}
		dir := filepath.Join(root, "c"+strconv.Itoa(i))
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(c.content), 0o644))
		for _, d := range c.dirs {
			require.NoError(t, os.MkdirAll(filepath.Join(dir, filepath.FromSlash(d)), 0o755))
			queries = append(queries, query{ig, i, d, true})
		}
		for _, f := range c.files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, filepath.FromSlash(f)), nil, 0o644))
			queries = append(queries, query{ig, i, f, false})
		}
	}
	for _, q := range queries {
		stdin.WriteString("c" + strconv.Itoa(q.c) + "/" + q.path + "\x00")
	}
	ignored := map[string]bool{}
	for _, p := range strings.Split(string(run(stdin.Bytes(), "check-ignore", "--no-index", "-z", "--stdin")), "\x00") {
		if p != "" {
			ignored[p] = true
		}
	}
	mismatches := 0
	for _, q := range queries {
		want := ignored["c"+strconv.Itoa(q.c)+"/"+q.path]
		if got := q.ig.Match(q.path, q.isDir); got != want {
			mismatches++
			if mismatches <= 20 {
				t.Errorf("patterns %q, path %q (dir %v): Match = %v, git check-ignore = %v", all[q.c].content, q.path, q.isDir, got, want)
			}
		}
	}
	assert.Less(t, invalid, cases/2, "most generated files are valid")
	t.Logf("%d cases (%d refused as invalid), %d paths, %d ignored by git, %d mismatches", cases, invalid, len(queries), len(ignored), mismatches)
}

package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var (
	// mdRef is a Markdown file named in a comment or document.
	mdRef = regexp.MustCompile(`(?:\.\./)*[A-Za-z0-9_./-]*[A-Za-z0-9_-]+\.md\b`)
	// issueRef is a tracker reference (the word issue and a number): meaningless
	// to a reader of the repository. Upstream references carry their
	// repository (golang/go#75804) and are not matched.
	issueRef = regexp.MustCompile(`(?i)\bissues? #?[0-9]+\b`)
	// upRef is a relative path that climbs directories; it must stay inside
	// the repository.
	upRef = regexp.MustCompile(`(?:\.\./)+[A-Za-z0-9_.-]+`)
	// mdLink is the target of a Markdown link; in prose, only link targets
	// are paths (a `../public` in a sentence is an example value).
	mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	// sectionRef is a section cited without its file (the word docs, then §).
	sectionRef = regexp.MustCompile(`\bdocs §`)
)

// TestRepositoryIsSelfContained: every Markdown file that the code, the docs
// or the workflows name exists in the repository under the path given
// (relative to the citing file or to the repository root, so code cites
// docs/workers-api.md, not a bare name), no relative path climbs out of
// the repository, and no code comment cites the issue tracker. A newcomer
// must be able to follow every reference from a clone alone.
func TestRepositoryIsSelfContained(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	out, err := exec.Command("git", "-C", root, "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	mdFiles := map[string]bool{}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f == "" {
			continue
		}
		if _, err := os.Lstat(filepath.Join(root, f)); err != nil {
			continue // deleted in the work tree
		}
		files = append(files, f)
		if strings.HasSuffix(f, ".md") {
			mdFiles[f] = true
		}
	}
	exists := func(from, ref string) bool {
		for _, cand := range []string{
			filepath.Clean(filepath.Join(filepath.Dir(from), ref)),
			filepath.Clean(ref),
			filepath.Clean(filepath.Join(filepath.Dir(from), "testdata", ref)),
		} {
			if mdFiles[filepath.ToSlash(cand)] {
				return true
			}
		}
		return false
	}
	var problems []string
	for _, f := range files {
		if strings.HasPrefix(f, "testdata/") || strings.Contains(f, "/testdata/") {
			continue
		}
		ext := filepath.Ext(f)
		isCode := ext == ".go" || ext == ".sh" || ext == ".yml" || ext == ".yaml" || filepath.Base(f) == "Dockerfile" || strings.HasPrefix(f, ".ci/")
		if !isCode && ext != ".md" {
			continue
		}
		fh, err := os.Open(filepath.Join(root, f))
		require.NoError(t, err)
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if ext == ".go" {
				// Only comments cite documents; strings in Go code are data
				// (fixture paths, golden file names).
				i := strings.Index(line, "//")
				if i < 0 {
					continue
				}
				line = line[i:]
			}
			paths := line
			if !isCode {
				paths = ""
				for _, m := range mdLink.FindAllStringSubmatch(line, -1) {
					paths += " " + m[1]
				}
			}
			for _, ref := range upRef.FindAllString(paths, -1) {
				if strings.HasPrefix(filepath.Clean(filepath.Join(filepath.Dir(f), ref)), "..") {
					problems = append(problems, f+":"+strconv.Itoa(n)+": path outside the repository: "+ref)
				}
			}
			for _, ref := range mdRef.FindAllString(line, -1) {
				if !exists(f, ref) && !inURL(line, ref) {
					problems = append(problems, f+":"+strconv.Itoa(n)+": "+ref+" is not in the repository")
				}
			}
			if isCode && issueRef.MatchString(line) {
				problems = append(problems, f+":"+strconv.Itoa(n)+": cites the issue tracker: "+strings.TrimSpace(line))
			}
			if sectionRef.MatchString(line) {
				problems = append(problems, f+":"+strconv.Itoa(n)+": section cited without its file: "+strings.TrimSpace(line))
			}
		}
		fh.Close()
	}
	if len(problems) > 0 {
		t.Errorf("%d references a clone cannot follow:\n%s", len(problems), strings.Join(problems, "\n"))
	}
}

// inURL reports whether ref only appears as part of a URL in line (a link to
// a file of another repository).
func inURL(line, ref string) bool {
	for _, field := range strings.FieldsFunc(line, func(r rune) bool {
		return r == ' ' || r == '(' || r == ')' || r == '<' || r == '>' || r == '"' || r == '`'
	}) {
		if strings.Contains(field, ref) && !strings.Contains(field, "://") {
			return false
		}
	}
	return true
}

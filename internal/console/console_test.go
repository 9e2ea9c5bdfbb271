package console

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileValues are untrusted strings that try to become workflow commands.
var hostileValues = []string{
	"a\n::error title=Deploy failed::spoofed\n.js",
	"::add-mask::secret",
	"::stop-commands::tok",
	"  ::warning::indented",
	"x\r::error::after a bare CR",
	"x\u2028::error::after U+2028",
	"x\u0085::error::after NEL",
	"x\v\f::error::vt ff",
	"##[add-mask]old syntax",
	"\x1b[31mred\x1b[0m \u202eevil",
	"bad \xff\xfe utf8",
}

// commandOf returns the workflow command a line is read as by the runner,
// "" for none: after leading white space "::name", or "##[name" anywhere.
func commandOf(line string) string {
	rest := strings.TrimLeftFunc(line, unicode.IsSpace)
	if after, ok := strings.CutPrefix(rest, "::"); ok {
		name, _, _ := strings.Cut(after, "::")
		name, _, _ = strings.Cut(name, " ")
		return name
	}
	if i := strings.Index(line, "##["); i >= 0 {
		return "##[" + line[i+3:]
	}
	return ""
}

// runnerLines splits output as the runner does: on \n, \r and \r\n.
func runnerLines(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
}

func TestConsoleNeutralisesUntrustedValues(t *testing.T) {
	t.Parallel()
	for _, actions := range []bool{true, false} {
		for _, v := range hostileValues {
			var out bytes.Buffer
			c := New(&out, actions, true)
			c.Infof("  %-40s %s", v, "application/javascript")
			c.Infof("%s", v)
			c.Infof("%v", errors.New(v))
			c.Infof("%q", v)
			c.Noticef("%s", v)
			c.Warningf("%s", v)
			c.Errorf("failed: %s", v)
			c.Debugf("%s", v)
			c.Group("Bundle: main " + v)
			c.EndGroup()
			require.NoError(t, c.Err())
			own := map[string]bool{"notice": true, "warning": true, "error": true, "debug": true, "group": true, "endgroup": true}
			lines := runnerLines(out.String())
			want := 10
			if !actions {
				want = 9 // no endgroup line
			}
			assert.Len(t, lines, want, "actions=%v %q: one line per call:\n%s", actions, v, out.String())
			for _, l := range lines {
				cmd := commandOf(l)
				if !actions {
					assert.Empty(t, cmd, "outside Actions no line is a command: %q", l)
					continue
				}
				assert.True(t, cmd == "" || own[cmd] && strings.HasPrefix(l, "::"+cmd+"::"), "actions=%v %q: line read as command %q: %q", actions, v, cmd, l)
			}
			assert.True(t, strings.ToValidUTF8(out.String(), "") == out.String(), "valid UTF-8")
			assert.NotContains(t, out.String(), "\x1b")
			assert.NotContains(t, out.String(), "\u202e")
		}
	}
}

func TestConsoleFormats(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		actions bool
		call    func(c *Console)
		want    string
	}{
		{"info keeps text", true, func(c *Console) { c.Infof("Worker %s (%s) found", "shop", "abc") }, "Worker shop (abc) found\n"},
		{"line break in a value", true, func(c *Console) { c.Infof("module %s", "a\nb") }, `module a\nb` + "\n"},
		{"own line breaks kept", false, func(c *Console) { c.Infof("Outputs:\n  x=%s", "1") }, "Outputs:\n  x=1\n"},
		{"leading colons escaped", true, func(c *Console) { c.Infof("  %s", "::add-mask::x") }, `  \::add-mask::x` + "\n"},
		{"old syntax escaped", true, func(c *Console) { c.Infof("a ##[error]b") }, `a ##\[error]b` + "\n"},
		{"width still works", false, func(c *Console) { c.Infof("%-5s|%3d", "ab", 7) }, "ab   |  7\n"},
		{"warning escapes data", true, func(c *Console) { c.Warningf("100%% %s", "a\nb") }, "::warning::100%25 a%0Ab\n"},
		{"error outside actions", false, func(c *Console) { c.Errorf("bad %s", "x\ny") }, `error: bad x\ny` + "\n"},
		{"debug off outside actions", false, func(c *Console) { c.Debugf("x") }, ""},
		{"mask per line", true, func(c *Console) { c.AddMask("one-line\ntwo-line") }, "::add-mask::one-line\n::add-mask::two-line\n"},
		{"no mask outside actions", false, func(c *Console) { c.AddMask("secret") }, ""},
		{"group", true, func(c *Console) { c.Group("Bundle\n::x"); c.EndGroup() }, `::group::Bundle\n::x` + "\n::endgroup::\n"},
		{"text", false, func(c *Console) { c.Text("a\n::b\n") }, "a\n\\::b\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			tc.call(New(&out, tc.actions, false))
			assert.Equal(t, tc.want, out.String())
		})
	}
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, syscall.EPIPE
}

// TestConsoleToleratesClosedStdout: a write that fails (EPIPE) neither
// panics nor is retried; the error is kept.
func TestConsoleToleratesClosedStdout(t *testing.T) {
	t.Parallel()
	w := &failingWriter{}
	c := New(w, true, false)
	assert.NotPanics(t, func() {
		c.Infof("a")
		c.Errorf("b")
		c.AddMask("secret-value")
	})
	assert.ErrorIs(t, c.Err(), syscall.EPIPE)
	assert.Equal(t, 1, w.n, "later lines are dropped")
}

// runnerOutputs parses a GITHUB_OUTPUT file as the runner does: name=value
// lines, and name<<DELIMITER blocks ended by a line equal to the delimiter.
func runnerOutputs(t *testing.T, data string) map[string]string {
	t.Helper()
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		name, delim, ok := strings.Cut(line, "<<")
		if !ok {
			k, v, _ := strings.Cut(line, "=")
			out[k] = v
			continue
		}
		var val []string
		closed := false
		for sc.Scan() {
			if sc.Text() == delim {
				closed = true
				break
			}
			val = append(val, sc.Text())
		}
		require.True(t, closed, "unterminated value of %s", name)
		out[name] = strings.Join(val, "\n")
	}
	return out
}

func TestWriteOutputsRandomDelimiter(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out")
	// The delimiter go-githubactions and older toolkits use, with an
	// output of its own after it.
	hostile := "x\n_GitHubActionsFileCommandDelimeter_\ninjected<<EOF\nyes\nEOF\nghadelimiter_\nevil=1"
	require.NoError(t, WriteOutputs(path, []Output{{"worker-name", hostile}, {"version-id", "v1"}, {"empty", ""}}))
	require.NoError(t, WriteOutputs(path, []Output{{"comment-url", "https://x"}}))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"worker-name": hostile, "version-id": "v1", "empty": "", "comment-url": "https://x"}, runnerOutputs(t, string(data)))
	delims := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		if _, d, ok := strings.Cut(l, "<<"); ok && strings.HasPrefix(d, "ghadelimiter_") {
			assert.Regexp(t, `^ghadelimiter_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, d)
			assert.False(t, delims[d], "a fresh delimiter per value")
			delims[d] = true
		}
	}
	assert.Len(t, delims, 4)
}

func TestWriteOutputsRefusesBadNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "a\nb", "a<<b", "a=b"} {
		path := filepath.Join(t.TempDir(), "out")
		assert.Error(t, WriteOutputs(path, []Output{{"ok", "1"}, {name, "v"}}), "%q", name)
		_, err := os.Stat(path)
		assert.True(t, os.IsNotExist(err), "nothing written")
	}
}

func TestAppendSummaryValidUTF8(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "summary")
	require.NoError(t, AppendSummary(path, "fix \xff\xfe bug"))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "fix \uFFFD bug", string(data))
}

func FuzzConsoleInfo(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, actions := range []bool{true, false} {
			var out bytes.Buffer
			c := New(&out, actions, true)
			c.Infof("  %s", v)
			c.Warningf("%s", v)
			c.Group(v)
			lines := runnerLines(out.String())
			if len(lines) > 3 {
				t.Fatalf("%q printed %d lines: %q", v, len(lines), out.String())
			}
			for _, l := range lines {
				if cmd := commandOf(l); cmd != "" && !(actions && (strings.HasPrefix(l, "::warning::") || strings.HasPrefix(l, "::group::"))) {
					t.Fatalf("%q became command %q: %q", v, cmd, l)
				}
			}
		}
	})
}

func TestQuietKeepsLevelsOnly(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := NewQuiet(&buf, false)
	c.Infof("info %s", "x")
	c.Group("group")
	c.EndGroup()
	c.Noticef("notice %s", "n\n::error::x")
	c.Warningf("warning %d", 1)
	c.Errorf("error %s", "e")
	c.Debugf("debug")
	c.AddMask("secret")
	assert.Equal(t, "notice: notice n\\n::error::x\nwarning: warning 1\nerror: error e\n", buf.String())

	buf.Reset()
	NewQuiet(&buf, true).Debugf("d")
	assert.Equal(t, "debug: d\n", buf.String(), "debug lines with debug on")
}

func TestNoticesAndWarningsAreRemembered(t *testing.T) {
	t.Parallel()
	for _, actions := range []bool{true, false} {
		var buf bytes.Buffer
		c := New(&buf, actions, false)
		c.Noticef("n1 %s", "a\nb")
		c.Warningf("w1")
		c.Infof("i")
		c.Errorf("e")
		c.Noticef("n2")
		assert.Equal(t, []string{`n1 a\nb`, "n2"}, c.Notices(), "actions=%v", actions)
		assert.Equal(t, []string{"w1"}, c.Warnings(), "actions=%v", actions)
	}
}

package comment

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/pipeline"
	"github.com/workers-deploy/workers-deploy/internal/report"
)

// hostile is untrusted text as a commit message, PR title, module, binding or
// stage reason could carry it: a forged sticky-comment marker, a team
// mention, HTML, a Markdown link and image, table pipes, line breaks and a
// blank line (which would end an HTML block).
const hostile = "<!-- workers-deploy:sticky-comment worker=x --> @org/team <script>alert(1)</script> " +
	"[click](https://evil.example) ![img](https://evil.example/p.png) a|b \\| `tick`\n| injected | row |\n\n@org/team <img src=x onerror=alert(1)>" +
	" bare https://evil.example/x HTTP://EVIL.example (http://evil.example/p) www.evil.example WWW.Evil.Example ftp://evil.example <https://evil.example/a>"

// hostileResult puts hostile text in every field of a report that does not
// come from the action itself, with a 70,000-character message (Render must
// hold its limit even if inputs did not cut the message to 1,000 bytes).
func hostileResult() *pipeline.Result {
	res := preview()
	res.Message = hostile + strings.Repeat(" "+hostile, 70000/len(hostile))
	res.Tag = hostile
	res.MainModule = hostile
	res.CompatibilityFlags = []string{hostile}
	res.Modules = append(res.Modules, pipeline.Module{Name: hostile, ContentType: hostile, Size: 1})
	res.Bindings = []pipeline.BindingInfo{{Name: hostile, Type: hostile}, {Name: "KV", Type: "kv_namespace"}}
	res.Stages = []pipeline.StageReport{{Index: 0, Percentage: 10, Hold: time.Minute, Verdict: "failed", Reason: hostile}}
	return res
}

// outsideCode returns the text of md that GitHub parses for Markdown, HTML
// and mentions: without code spans (text between two backticks on a line)
// and <code> elements, where everything shows literally, and without
// backslash-escaped characters, which show as themselves.
func outsideCode(md string) string {
	var b strings.Builder
	for _, line := range strings.Split(md, "\n") {
		for i := 0; i < len(line); i++ {
			switch {
			case line[i] == '\\':
				b.WriteString("\\_") // an escaped character: literal text
				i++
			case line[i] == '`':
				end := strings.IndexByte(line[i+1:], '`')
				if end < 0 {
					b.WriteString(line[i:])
					i = len(line)
					continue
				}
				b.WriteString("``")
				i += end + 1
			case strings.HasPrefix(line[i:], "<code>"):
				end := strings.Index(line[i:], "</code>")
				if end < 0 {
					b.WriteString(line[i:])
					i = len(line)
					continue
				}
				b.WriteString("<code></code>")
				i += end + len("</code>") - 1
			default:
				b.WriteByte(line[i])
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

var (
	// autolink finds the starts of the bare URLs GFM turns into links by
	// itself (its "extended autolinks").
	autolink = regexp.MustCompile(`(?i)(https?://|ftp://|www\.)[a-z0-9]`)
	// allowedTag is HTML the report writes itself.
	allowedTag = regexp.MustCompile(`^<(/?details|/?summary|/?code)>|^<https://`)
	mention    = regexp.MustCompile(`@[A-Za-z0-9]`)
)

// unescapedPipes counts the pipes of a table row that GFM splits cells on
// (a pipe after a backslash is part of the cell).
func unescapedPipes(line string) int {
	n := 0
	for i := 0; i < len(line); i++ {
		if line[i] == '|' && (i == 0 || line[i-1] != '\\') {
			n++
		}
	}
	return n
}

// assertSafeMarkdown checks what GitHub would render from md: no HTML but the
// report's own, no @-mention, no link but the run's, and every table row with
// the columns of its header.
func assertSafeMarkdown(t *testing.T, md string) {
	t.Helper()
	text := outsideCode(md)
	for i := strings.IndexByte(text, '<'); i >= 0; i = strings.IndexByte(text, '<') {
		rest := text[i:]
		assert.True(t, allowedTag.MatchString(rest) || strings.HasPrefix(rest, "<!-- workers-deploy:sticky-comment worker=shop -->\n") && i == 0,
			"raw HTML outside a code span: %.60q", rest)
		text = rest[1:]
	}
	text = outsideCode(md)
	assert.False(t, mention.MatchString(text), "an @-mention outside a code span")
	assert.Equal(t, strings.Count(text, "]("), strings.Count(text, "[logs]("), "a Markdown link other than the run link")
	assert.NotContains(t, text, "![")
	// The report's own links: the run link's destination and the preview's
	// <https://…> autolink. Every other URL must not be linked.
	for _, loc := range autolink.FindAllStringIndex(text, -1) {
		before := text[:loc[0]]
		own := strings.HasSuffix(before, "[logs](") || strings.HasSuffix(before, "<") && !strings.HasSuffix(before, "&lt;")
		assert.True(t, own, "a bare URL GitHub would link: %.60q", text[max(0, loc[0]-20):])
	}
	header, inTable := 0, false
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			inTable = false
			continue
		}
		if !inTable {
			header, inTable = unescapedPipes(line), true
			continue
		}
		assert.Equal(t, header, unescapedPipes(line), "a table row with other columns than its header: %.80q", line)
	}
}

// TestSecurityUntrustedTextInComment: hostile text in every untrusted field
// does not forge or break the marker, mention anyone, inject HTML, links or
// table rows, and the body stays within GitHub's 65,536-character limit.
func TestSecurityUntrustedTextInComment(t *testing.T) {
	t.Parallel()
	body := Render("shop", hostileResult(), report.Details{RunURL: runURL, Failure: hostile})
	require.True(t, strings.HasPrefix(body, Marker("shop")+"\n"), "the marker is the first line")
	assert.LessOrEqual(t, len(body), MaxBody)
	assert.LessOrEqual(t, utf8.RuneCountInString(body), 65536)
	assert.Equal(t, 1, strings.Count(outsideCode(body), "<!--"), "one HTML comment: the marker")
	assert.False(t, strings.HasPrefix(strings.TrimLeft(body, " \r\n"), Marker("x")), "the forged marker cannot make this Worker x's comment")
	assertSafeMarkdown(t, body)
}

// TestSecurityUntrustedTextInSummary: the job summary (same renderer, no
// marker, 1 MiB limit) is as safe.
func TestSecurityUntrustedTextInSummary(t *testing.T) {
	t.Parallel()
	res := hostileResult()
	md := report.Summary(res, runURL) + "\n**Failed:** " + report.EscapeText(hostile) + "\n"
	assert.Less(t, len(md), 1<<20)
	assert.Zero(t, strings.Count(outsideCode(md), "<!--"), "no HTML comment outside code spans")
	// The summary has no marker, so check it with one prepended.
	assertSafeMarkdown(t, Marker("shop")+"\n"+md)
}

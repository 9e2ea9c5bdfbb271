package comment

import (
	"context"
	"fmt"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/github"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
	"github.com/workers-deploy/workers-deploy/internal/report"
)

// MaxBody is the most bytes a rendered comment may have. GitHub refuses
// comment bodies over 65,536 characters; counting bytes (never fewer than
// characters) with a margin keeps every body acceptable.
const MaxBody = 65000

// markerPrefix starts every marker; the Worker follows.
const markerPrefix = "<!-- workers-deploy:sticky-comment worker="

// Marker is the hidden first line that identifies the sticky comment of one
// Worker (name or 32-hex ID). Characters outside [A-Za-z0-9._-] are
// percent-encoded, so no Worker string can end the HTML comment early or
// make one Worker's marker a prefix of another's (the marker ends with " -->").
func Marker(worker string) string {
	var b strings.Builder
	for _, c := range []byte(worker) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-' && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return markerPrefix + b.String() + " -->"
}

// Render returns the comment body for a run: the marker, then the same
// report as the job summary. Tables are cut (and say so) until the body fits
// MaxBody; as a last resort the text is cut at a line boundary.
func Render(worker string, res *pipeline.Result, d report.Details) string {
	head := Marker(worker) + "\n"
	rows := d.MaxRows
	if rows <= 0 {
		rows = report.DefaultMaxRows
	}
	for {
		d.MaxRows = rows
		body := head + report.Render(res, d)
		if len(body) <= MaxBody {
			return body
		}
		if rows <= 5 {
			return cut(body)
		}
		rows /= 2
	}
}

// cut shortens body to MaxBody at a line boundary and says so.
func cut(body string) string {
	const note = "\n\n… (cut: the report is longer than a pull-request comment may be; the job summary has all of it)\n"
	limit := MaxBody - len(note)
	body = body[:limit]
	if i := strings.LastIndexByte(body, '\n'); i > 0 {
		body = body[:i]
	}
	return body + note
}

// API is the part of the GitHub client Upsert needs.
type API interface {
	Viewer(ctx context.Context) (string, error)
	ListComments(ctx context.Context, owner, repo string, number int) ([]github.Comment, error)
	// CreateComment creates the comment; mine recognises it when the outcome
	// of an attempt is unknown (see github.Client.CreateComment).
	CreateComment(ctx context.Context, owner, repo string, number int, body string, mine func(github.Comment) bool) (github.Comment, error)
	UpdateComment(ctx context.Context, owner, repo string, id int64, body string) (github.Comment, error)
}

var _ API = (*github.Client)(nil)

// Target is the pull request to comment on.
type Target struct {
	Owner, Repo string
	// Number is the pull request's number (1-based).
	Number int
}

// Outcome says what Upsert did.
type Outcome struct {
	// URL is the comment's html_url.
	URL string
	ID  int64
	// Action is "created", "updated" or "unchanged".
	Action string
}

// Upsert edits the sticky comment of worker on the pull request, or creates it.
//
// Only a comment written by the token's own identity is edited, so nobody
// can make the action overwrite their comment by pasting the marker. The
// identity is GET /user's login. GITHUB_TOKEN (an installation token) gets
// 403 there, so a permission error means the workflow's token, whose
// comments GitHub attributes to github-actions[bot]. A GitHub App token other
// than the workflow's would then not recognise its earlier comment and
// create a new one each run, which is visible but harmless; a personal token
// answers GET /user. Logins compare case-insensitively, without "[bot]".
//
// A create whose outcome is unknown (the connection broke after the request
// may have been sent, or GitHub answered 5xx) is never re-sent blindly: the
// comments are listed again, and the token's marked comment, when there, is
// taken as created (and edited if its body differs); else the create is sent
// again. When that lookup fails the error says so and nothing is re-sent.
func Upsert(ctx context.Context, api API, t Target, worker, body string) (Outcome, error) {
	login, err := api.Viewer(ctx)
	if err != nil {
		if !github.IsPermission(err) {
			return Outcome{}, fmt.Errorf("failed to look up the GitHub token's user: %w", err)
		}
		login = github.ActionsBotLogin
	}
	comments, err := api.ListComments(ctx, t.Owner, t.Repo, t.Number)
	if err != nil {
		return Outcome{}, fmt.Errorf("failed to list the comments of pull request #%d: %w", t.Number, err)
	}
	marker := Marker(worker)
	mine := func(c github.Comment) bool { return isSticky(c, marker, login) }
	for _, c := range comments {
		if !mine(c) {
			continue
		}
		if c.Body == body {
			return Outcome{URL: c.HTMLURL, ID: c.ID, Action: "unchanged"}, nil
		}
		return edit(ctx, api, t, c, body, "updated")
	}
	// A create whose outcome is unknown (a broken connection, a 5xx) is
	// resolved by the client: it lists the comments again and returns the one
	// mine recognises, or re-sends the create when there is none, so a retry
	// never leaves two sticky comments.
	c, err := api.CreateComment(ctx, t.Owner, t.Repo, t.Number, body, mine)
	if err != nil {
		return Outcome{}, fmt.Errorf("failed to create a comment on pull request #%d: %w", t.Number, err)
	}
	if c.Body != body {
		// Found after an unknown outcome, written by another attempt or a
		// concurrent run: make it this run's report.
		return edit(ctx, api, t, c, body, "created")
	}
	return Outcome{URL: c.HTMLURL, ID: c.ID, Action: "created"}, nil
}

// edit replaces the body of the sticky comment c.
func edit(ctx context.Context, api API, t Target, c github.Comment, body, action string) (Outcome, error) {
	u, err := api.UpdateComment(ctx, t.Owner, t.Repo, c.ID, body)
	if err != nil {
		return Outcome{}, fmt.Errorf("failed to update comment %d on pull request #%d: %w", c.ID, t.Number, err)
	}
	return Outcome{URL: orDefault(u.HTMLURL, c.HTMLURL), ID: c.ID, Action: action}, nil
}

// isSticky reports whether c is the sticky comment with marker (see Marker)
// written by login: its body starts with the marker (after blank lines) and
// its author is login (see SameLogin).
func isSticky(c github.Comment, marker, login string) bool {
	return strings.HasPrefix(strings.TrimLeft(c.Body, " \r\n"), marker) && SameLogin(c.Author, login)
}

// SameLogin compares two GitHub logins case-insensitively, ignoring a
// "[bot]" suffix on either (GraphQL and some payloads drop it).
func SameLogin(a, b string) bool {
	norm := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		return strings.TrimSuffix(s, "[bot]")
	}
	return a != "" && norm(a) == norm(b)
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// RenderClosed returns the body that replaces the sticky comment of worker
// once pull request number was closed and its Preview deleted
// (report.ClosedNote after the marker).
func RenderClosed(worker string, res *pipeline.Result, number int, runURL string) string {
	return Marker(worker) + "\n" + report.ClosedNote(res, number, runURL)
}

// Close edits the sticky comment of worker on a closed pull request to body
// (see RenderClosed). It never creates one: a pull request that never had a
// comment needs none. The comments are listed first and the token's identity
// is looked up only when a marked comment is there, so a pull request without
// one costs one request, and one with it three (list, identity, edit); as in
// Upsert only the token's own comment is edited. Action is "updated",
// "unchanged" or "" when there was no comment to edit.
func Close(ctx context.Context, api API, t Target, worker, body string) (Outcome, error) {
	comments, err := api.ListComments(ctx, t.Owner, t.Repo, t.Number)
	if err != nil {
		return Outcome{}, fmt.Errorf("failed to list the comments of pull request #%d: %w", t.Number, err)
	}
	marker := Marker(worker)
	var marked []github.Comment
	for _, c := range comments {
		if strings.HasPrefix(strings.TrimLeft(c.Body, " \r\n"), marker) {
			marked = append(marked, c)
		}
	}
	if len(marked) == 0 {
		return Outcome{}, nil
	}
	login, err := api.Viewer(ctx)
	if err != nil {
		if !github.IsPermission(err) {
			return Outcome{}, fmt.Errorf("failed to look up the GitHub token's user: %w", err)
		}
		login = github.ActionsBotLogin
	}
	for _, c := range marked {
		if !isSticky(c, marker, login) {
			continue
		}
		if c.Body == body {
			return Outcome{URL: c.HTMLURL, ID: c.ID, Action: "unchanged"}, nil
		}
		return edit(ctx, api, t, c, body, "updated")
	}
	return Outcome{}, nil
}

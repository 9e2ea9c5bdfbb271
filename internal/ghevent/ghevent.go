package ghevent

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/safefile"
)

// Context is the run context of one workflow step.
type Context struct {
	// InActions is true when GITHUB_ACTIONS=true.
	InActions bool
	EventName string
	// SHA is GITHUB_SHA.
	SHA        string
	Ref        string
	Repository string // owner/name
	ServerURL  string // e.g. https://github.com (GHES: its own host)
	APIURL     string // e.g. https://api.github.com (GHES: https://HOST/api/v3)
	RunID      string
	RunAttempt string
	Workspace  string

	Payload Payload
}

// Payload holds the event fields the action uses; everything else is ignored.
type Payload struct {
	// Action is the activity type of pull_request events (opened, closed, …).
	Action string `json:"action"`
	// Deleted is true on a push that deletes a branch or tag.
	Deleted    bool         `json:"deleted"`
	After      string       `json:"after"`
	HeadCommit *Commit      `json:"head_commit"`
	PR         *PullRequest `json:"pull_request"`
}

// Commit is a push's head commit.
type Commit struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// PullRequest is the part of a pull_request payload the action uses.
type PullRequest struct {
	Number  int    `json:"number"`
	Title   string `json:"title"`
	HTMLURL string `json:"html_url"`
	Head    struct {
		SHA  string `json:"sha"`
		Ref  string `json:"ref"`
		Repo *struct {
			FullName string `json:"full_name"`
		} `json:"repo"`
	} `json:"head"`
	Base struct {
		Repo *struct {
			FullName string `json:"full_name"`
		} `json:"repo"`
	} `json:"base"`
}

// MaxPayloadBytes caps the read of the event payload: GitHub caps webhook
// payloads at 25 MB, and a payload path that never ends (a link to
// /dev/zero) must not exhaust memory.
const MaxPayloadBytes = 32 << 20

// ReadPayload reads the event payload file at path: a regular file (a named
// pipe would block the run, a device never end), at most MaxPayloadBytes.
// The runner writes it outside the workspace, so it may lie anywhere.
func ReadPayload(path string) ([]byte, error) { return safefile.ReadFile("", path, MaxPayloadBytes) }

// Load builds the Context from GITHUB_* variables and the event payload file,
// read with readFile (ReadPayload in main). A missing payload file is not an
// error outside Actions.
func Load(getenv func(string) string, readFile func(string) ([]byte, error)) (*Context, error) {
	c := &Context{
		InActions:  getenv("GITHUB_ACTIONS") == "true",
		EventName:  getenv("GITHUB_EVENT_NAME"),
		SHA:        getenv("GITHUB_SHA"),
		Ref:        getenv("GITHUB_REF"),
		Repository: getenv("GITHUB_REPOSITORY"),
		ServerURL:  strings.TrimRight(getenv("GITHUB_SERVER_URL"), "/"),
		APIURL:     strings.TrimRight(getenv("GITHUB_API_URL"), "/"),
		RunID:      getenv("GITHUB_RUN_ID"),
		RunAttempt: getenv("GITHUB_RUN_ATTEMPT"),
		Workspace:  getenv("GITHUB_WORKSPACE"),
	}
	if c.ServerURL == "" {
		c.ServerURL = "https://github.com"
	}
	if c.APIURL == "" {
		c.APIURL = "https://api.github.com"
	}
	if hasUserInfo(c.APIURL) {
		// The URL is not quoted: it holds a password or token.
		return nil, errors.New("GITHUB_API_URL has a user name or password in it (https://user:password@host/…): refused, because the URL is printed in messages and the credential would be sent to GitHub beside the token; set GITHUB_API_URL to the API address alone (the `github-token` input carries the credential)")
	}
	path := getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return c, nil
	}
	data, err := readFile(path)
	if err != nil {
		if !c.InActions {
			return c, nil
		}
		return nil, fmt.Errorf("failed to read the event payload %q (GITHUB_EVENT_PATH): %w", path, err)
	}
	p, err := ParsePayload(data)
	if err != nil {
		return nil, fmt.Errorf("failed to parse the event payload %q (GITHUB_EVENT_PATH): %w", path, err)
	}
	c.Payload = *p
	return c, nil
}

// hasUserInfo reports whether the authority of a URL (between "//" and the
// next "/", "?" or "#") has user information ("user@", "user:password@").
// It does not parse the URL, so that a malformed one is caught as well.
func hasUserInfo(raw string) bool {
	_, rest, ok := strings.Cut(raw, "//")
	if !ok {
		return strings.Contains(raw, "@")
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return strings.Contains(rest, "@")
}

// ParsePayload decodes the fields of an event payload the action uses.
func ParsePayload(data []byte) (*Payload, error) {
	var p Payload
	if len(strings.TrimSpace(string(data))) == 0 {
		return &p, nil
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// IsPullRequest reports whether the event is pull_request or pull_request_target.
func (c *Context) IsPullRequest() bool {
	return (c.EventName == "pull_request" || c.EventName == "pull_request_target") && c.Payload.PR != nil
}

// DefaultTag is the version tag when the `tag` input is empty: the PR head
// commit on pull-request events (GITHUB_SHA is a merge commit there), else
// GITHUB_SHA, else the pushed commit of the payload. "" when none is known.
func (c *Context) DefaultTag() string {
	if c.IsPullRequest() && c.Payload.PR.Head.SHA != "" {
		return c.Payload.PR.Head.SHA
	}
	if c.SHA != "" {
		return c.SHA
	}
	return c.Payload.After
}

// DefaultMessage is the version message when the `message` input is empty: the
// PR title on pull-request events, the head commit's subject on push, else "".
func (c *Context) DefaultMessage() string {
	if c.IsPullRequest() {
		return c.Payload.PR.Title
	}
	if c.Payload.HeadCommit != nil {
		subject, _, _ := strings.Cut(c.Payload.HeadCommit.Message, "\n")
		return strings.TrimSpace(subject)
	}
	return ""
}

// SkipReason says why the event leaves nothing to do ("" when there is work):
// a push that deletes a ref, or a closed pull request.
func (c *Context) SkipReason() string {
	switch {
	case c.EventName == "push" && c.Payload.Deleted:
		return fmt.Sprintf("this push deletes %s: nothing to deploy", orDefault(c.Ref, "a ref"))
	case c.IsPullRequest() && c.Payload.Action == "closed":
		return fmt.Sprintf("pull request #%d was closed: nothing to deploy", c.Payload.PR.Number)
	}
	return ""
}

// RunURL links to the workflow run, or "" outside Actions.
func (c *Context) RunURL() string {
	if c.Repository == "" || c.RunID == "" {
		return ""
	}
	u := c.ServerURL + "/" + c.Repository + "/actions/runs/" + c.RunID
	if c.RunAttempt != "" && c.RunAttempt != "1" {
		u += "/attempts/" + c.RunAttempt
	}
	return u
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// PRNumber is the pull request's number on pull-request events, else 0.
func (c *Context) PRNumber() int {
	if !c.IsPullRequest() {
		return 0
	}
	return c.Payload.PR.Number
}

// IsFork reports whether a pull-request event comes from another repository
// (head.repo differs from base.repo, or the head repository was deleted). On
// `pull_request` such runs get a read-only GITHUB_TOKEN and no secrets.
func (c *Context) IsFork() bool {
	if !c.IsPullRequest() {
		return false
	}
	pr := c.Payload.PR
	if pr.Head.Repo == nil || pr.Base.Repo == nil {
		return pr.Head.Repo == nil && pr.Base.Repo != nil
	}
	return !strings.EqualFold(pr.Head.Repo.FullName, pr.Base.Repo.FullName)
}

// IsPullRequestTarget reports whether the event is pull_request_target, which
// runs in the base repository's context with a write token and secrets.
func (c *Context) IsPullRequestTarget() bool {
	return c.EventName == "pull_request_target" && c.Payload.PR != nil
}

// OwnerRepo splits GITHUB_REPOSITORY ("owner/name"); ok is false when it
// is missing or malformed.
func (c *Context) OwnerRepo() (owner, repo string, ok bool) {
	owner, repo, ok = strings.Cut(c.Repository, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return "", "", false
	}
	return owner, repo, true
}

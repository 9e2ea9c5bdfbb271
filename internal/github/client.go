package github

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/loopback"
	"github.com/workers-deploy/workers-deploy/internal/retry"

	gh "github.com/google/go-github/v62/github"
)

// ActionsBotLogin is the login of the identity behind the workflow's
// GITHUB_TOKEN (github.com and GHES alike).
const ActionsBotLogin = "github-actions[bot]"

// Client calls GitHub's REST API for one repository's reporting needs.
type Client struct {
	gh *gh.Client
}

type options struct {
	httpClient *http.Client
	retry      retry.Policy
	userAgent  string
}

// Option configures New.
type Option func(*options)

// WithHTTPClient sets the HTTP client whose transport carries the requests
// (tests use it for a loopback server); its Timeout bounds each attempt.
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithSleep replaces the wait between retries (tests pass one that records
// the durations and returns at once).
func WithSleep(sleep func(context.Context, time.Duration) error) Option {
	return func(o *options) { o.retry.Sleep = sleep }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(o *options) { o.userAgent = ua } }

// New returns a client for the REST API at apiURL (GITHUB_API_URL, e.g.
// https://api.github.com or https://HOST/api/v3 on GitHub Enterprise Server)
// that authenticates with token. The token is only ever sent to apiURL's
// host, and plain http is refused except for loopback hosts (tests).
func New(apiURL, token string, opts ...Option) (*Client, error) {
	o := options{
		httpClient: &http.Client{Timeout: 30 * time.Second},
		retry:      defaultRetryPolicy(),
	}
	for _, opt := range opts {
		opt(&o)
	}
	base, err := checkAPIURL(apiURL)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("no GitHub token: set the `github-token` input (the default is `${{ github.token }}`)")
	}
	hc := *o.httpClient
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = &retryTransport{next: next, policy: o.retry}
	// A redirect to another host, or to plain http on the same host, would
	// carry the token there (the auth transport adds it to every request):
	// refuse it.
	hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > 0 && (!strings.EqualFold(req.URL.Host, via[0].URL.Host) || !strings.EqualFold(req.URL.Scheme, via[0].URL.Scheme)) {
			return fmt.Errorf("refusing a redirect from %s://%s to %s://%s (another host or scheme)", via[0].URL.Scheme, via[0].URL.Host, req.URL.Scheme, req.URL.Host)
		}
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	}
	// go-github v62: NewClient(httpClient), then BaseURL and WithAuthToken
	// (the options-based constructor only exists in later versions).
	c := gh.NewClient(&hc).WithAuthToken(strings.TrimSpace(token))
	c.BaseURL = base
	c.UploadURL = base
	if o.userAgent != "" {
		c.UserAgent = o.userAgent
	}
	return &Client{gh: c}, nil
}

// checkAPIURL parses GITHUB_API_URL and adds the trailing slash go-github
// needs for relative endpoint paths.
func checkAPIURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		s = "https://api.github.com"
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("GITHUB_API_URL %q is not an absolute URL", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.IsHost(u.Hostname()) {
			return nil, fmt.Errorf("GITHUB_API_URL %q uses plain http: the token would travel unencrypted; use https", s)
		}
	default:
		return nil, fmt.Errorf("GITHUB_API_URL %q must use https", s)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// Comment is an issue (pull-request conversation) comment.
type Comment struct {
	ID      int64
	Body    string
	HTMLURL string
	// Author is the login of the comment's author, e.g. "github-actions[bot]".
	Author string
	// AuthorType is "User", "Bot" or "Organization".
	AuthorType string
}

// commentsPerPage is the API's maximum page size: PRs with hundreds of
// comments then cost a few requests, not dozens.
const commentsPerPage = 100

// maxCommentPages bounds the listing (100 pages = 10,000 comments) so that a
// pathological PR cannot burn the repository's hourly request budget.
const maxCommentPages = 100

// Viewer returns the login of the token's user.
// https://docs.github.com/rest/users/users#get-the-authenticated-user
// GITHUB_TOKEN and other installation tokens get 403 "Resource not accessible
// by integration" here; callers decide what that means (see IsPermission).
func (c *Client) Viewer(ctx context.Context) (string, error) {
	u, _, err := c.gh.Users.Get(ctx, "")
	if err != nil {
		return "", wrap("GET", "/user", err)
	}
	return u.GetLogin(), nil
}

// ListComments returns every comment of issue or pull request number, in
// creation order, paging 100 at a time.
// https://docs.github.com/rest/issues/comments#list-issue-comments
func (c *Client) ListComments(ctx context.Context, owner, repo string, number int) ([]Comment, error) {
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: commentsPerPage}}
	var out []Comment
	for page := 0; page < maxCommentPages; page++ {
		list, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, wrap("GET", fmt.Sprintf("/repos/%s/%s/issues/%d/comments", owner, repo, number), err)
		}
		for _, ic := range list {
			if ic.GetID() <= 0 {
				// Could not be edited, and would be mistaken for a
				// missing permission when the edit fails with 404.
				return nil, wrap("GET", fmt.Sprintf("/repos/%s/%s/issues/%d/comments", owner, repo, number),
					fmt.Errorf("%w: GitHub listed a comment without an id", ErrBadAnswer))
			}
			out = append(out, fromIssueComment(ic))
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
	return out, nil
}

// CreateComment adds a comment to issue or pull request number.
//
// mine recognises the comment once it exists (the caller's marker and
// identity). When an attempt fails in a way that may come after GitHub
// applied it (the connection broke once the request may have been sent, a
// 5xx answer, or a 2xx answer cut off, not JSON or without an id:
// ErrBadAnswer), the comments are listed again (all pages, as ListComments) and
// the last one for which mine is true is returned as the created comment;
// only when none is found is the request sent again (within the retry policy,
// looking before each re-send). Its Body may then differ from body (another
// attempt or run wrote it). When the lookup fails, nothing is re-sent and the
// error wraps ErrUnknownOutcome. With a nil mine such a request is never
// re-sent.
// https://docs.github.com/rest/issues/comments#create-an-issue-comment
func (c *Client) CreateComment(ctx context.Context, owner, repo string, number int, body string, mine func(Comment) bool) (Comment, error) {
	var found Comment
	var check outcomeCheck
	if mine != nil {
		check = func(ctx context.Context) (bool, error) {
			list, err := c.ListComments(ctx, owner, repo, number)
			if err != nil {
				return false, err
			}
			for i := len(list) - 1; i >= 0; i-- {
				if mine(list[i]) {
					found = list[i]
					return true, nil
				}
			}
			return false, nil
		}
	}
	ctx, call := withCreate(ctx, check)
	ic, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: gh.String(body)})
	err = call.result(err)
	if errors.Is(err, errApplied) {
		return found, nil
	}
	if err != nil {
		return Comment{}, wrap("POST", fmt.Sprintf("/repos/%s/%s/issues/%d/comments", owner, repo, number), err)
	}
	return fromIssueComment(ic), nil
}

// UpdateComment replaces the body of comment id.
// https://docs.github.com/rest/issues/comments#update-an-issue-comment
func (c *Client) UpdateComment(ctx context.Context, owner, repo string, id int64, body string) (Comment, error) {
	ic, _, err := c.gh.Issues.EditComment(ctx, owner, repo, id, &gh.IssueComment{Body: gh.String(body)})
	if err != nil {
		return Comment{}, wrap("PATCH", fmt.Sprintf("/repos/%s/%s/issues/comments/%d", owner, repo, id), err)
	}
	return fromIssueComment(ic), nil
}

func fromIssueComment(ic *gh.IssueComment) Comment {
	return Comment{
		ID: ic.GetID(), Body: ic.GetBody(), HTMLURL: ic.GetHTMLURL(),
		Author: ic.GetUser().GetLogin(), AuthorType: ic.GetUser().GetType(),
	}
}

// DeploymentRequest is a GitHub Deployment to create.
type DeploymentRequest struct {
	// Ref is the commit SHA (or branch) deployed.
	Ref         string
	Environment string
	Description string
	// Transient marks an environment that goes away later (PR previews).
	Transient bool
	// Production, when non-nil, sets production_environment; nil leaves
	// GitHub's default (true only for an environment named production).
	Production *bool
	// Payload is extra JSON data stored with the deployment.
	Payload map[string]any
	// Nonce, unique to this request (e.g. Worker, run, attempt and version),
	// is stored in the payload under PayloadNonce. It lets CreateDeployment
	// find the deployment again when an attempt's outcome is unknown; without
	// one such a request is never re-sent.
	Nonce string
}

// PayloadNonce is the payload key of DeploymentRequest.Nonce.
const PayloadNonce = "nonce"

// deploymentsPerPage bounds the lookup of a deployment by its nonce: the
// newest deployments come first, and one run creates one per Worker.
const deploymentsPerPage = 100

// Deployment is a created GitHub Deployment.
type Deployment struct {
	ID  int64
	URL string
}

// CreateDeployment creates a deployment with required_contexts [] (the
// workflow creating it is itself a pending check: omitting the field fails
// with 409 "Commit status checks failed") and auto_merge false (never merge
// the default branch into the ref).
//
// When an attempt fails in a way that may come after GitHub applied it (the
// connection broke once the request may have been sent, a 5xx answer, or a
// 2xx answer cut off, not JSON or without an id: ErrBadAnswer), and r has a
// Nonce, the newest deployments of the same commit (or ref),
// environment and task are listed, and the one whose payload carries the
// nonce is returned as created; only when none does is the request sent
// again (within the retry policy, looking before each re-send). When the
// lookup fails nothing is re-sent and the error wraps ErrUnknownOutcome.
// https://docs.github.com/rest/deployments/deployments#create-a-deployment
func (c *Client) CreateDeployment(ctx context.Context, owner, repo string, r DeploymentRequest) (Deployment, error) {
	req := &gh.DeploymentRequest{
		Ref:                   gh.String(r.Ref),
		Task:                  gh.String(deployTask),
		AutoMerge:             gh.Bool(false),
		RequiredContexts:      &[]string{},
		Environment:           gh.String(r.Environment),
		Description:           gh.String(r.Description),
		TransientEnvironment:  gh.Bool(r.Transient),
		ProductionEnvironment: r.Production,
	}
	payload := r.Payload
	if r.Nonce != "" {
		payload = make(map[string]any, len(r.Payload)+1)
		for k, v := range r.Payload {
			payload[k] = v
		}
		payload[PayloadNonce] = r.Nonce
	}
	if payload != nil {
		req.Payload = payload
	}
	var found Deployment
	var check outcomeCheck
	if r.Nonce != "" {
		check = func(ctx context.Context) (bool, error) {
			d, ok, err := c.findDeployment(ctx, owner, repo, r)
			found = d
			return ok, err
		}
	}
	ctx, call := withCreate(ctx, check)
	d, _, err := c.gh.Repositories.CreateDeployment(ctx, owner, repo, req)
	err = call.result(err)
	if errors.Is(err, errApplied) {
		return found, nil
	}
	if err != nil {
		return Deployment{}, wrap("POST", fmt.Sprintf("/repos/%s/%s/deployments", owner, repo), err)
	}
	return Deployment{ID: d.GetID(), URL: d.GetURL()}, nil
}

// deployTask is the task of every deployment the action creates.
const deployTask = "deploy"

// findDeployment looks for the deployment r created among the newest ones
// of its commit (or ref), environment and task, by r.Nonce in the payload.
// https://docs.github.com/rest/deployments/deployments#list-deployments
func (c *Client) findDeployment(ctx context.Context, owner, repo string, r DeploymentRequest) (Deployment, bool, error) {
	opts := &gh.DeploymentsListOptions{Task: deployTask, Environment: r.Environment, ListOptions: gh.ListOptions{PerPage: deploymentsPerPage}}
	if isCommitSHA(r.Ref) {
		opts.SHA = r.Ref
	} else {
		opts.Ref = r.Ref
	}
	list, _, err := c.gh.Repositories.ListDeployments(ctx, owner, repo, opts)
	if err != nil {
		return Deployment{}, false, wrap("GET", fmt.Sprintf("/repos/%s/%s/deployments", owner, repo), err)
	}
	for _, d := range list {
		if d.GetID() > 0 && payloadNonce(d.Payload) == r.Nonce {
			return Deployment{ID: d.GetID(), URL: d.GetURL()}, true, nil
		}
	}
	return Deployment{}, false, nil
}

// payloadNonce reads PayloadNonce from a deployment's payload: a JSON object,
// or (for payloads created as a string) a string holding one. "" when absent.
func payloadNonce(raw json.RawMessage) string {
	var obj map[string]any
	if err := json.Unmarshal(raw, &obj); err != nil {
		var str string
		if json.Unmarshal(raw, &str) != nil || json.Unmarshal([]byte(str), &obj) != nil {
			return ""
		}
	}
	n, _ := obj[PayloadNonce].(string)
	return n
}

// isCommitSHA reports whether s is a full commit SHA (SHA-1 or SHA-256).
func isCommitSHA(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// DeploymentStatus is one status of a GitHub Deployment.
type DeploymentStatus struct {
	// State is error, failure, inactive, in_progress, queued, pending or success.
	State string
	// Description is at most 140 characters (cut by CreateDeploymentStatus).
	Description    string
	LogURL         string
	EnvironmentURL string
}

// MaxStatusDescription is GitHub's limit on a deployment status description.
const MaxStatusDescription = 140

// CreateDeploymentStatus adds a status to deployment id. A status only
// appends to the deployment's log, where the newest entry wins, so an attempt
// whose outcome is unknown (a broken connection, a 5xx, an answer cut off or
// without an id) is simply sent again.
// https://docs.github.com/rest/deployments/statuses#create-a-deployment-status
func (c *Client) CreateDeploymentStatus(ctx context.Context, owner, repo string, id int64, s DeploymentStatus) error {
	if id <= 0 {
		// GitHub would answer 404, which reads as a missing permission.
		return fmt.Errorf("no GitHub Deployment to post a %s status to (deployment id %d)", s.State, id)
	}
	req := &gh.DeploymentStatusRequest{
		State:       gh.String(s.State),
		Description: gh.String(CutRunes(s.Description, MaxStatusDescription)),
	}
	if s.LogURL != "" {
		req.LogURL = gh.String(s.LogURL)
	}
	if s.EnvironmentURL != "" {
		req.EnvironmentURL = gh.String(s.EnvironmentURL)
	}
	_, _, err := c.gh.Repositories.CreateDeploymentStatus(ctx, owner, repo, id, req)
	if err != nil {
		return wrap("POST", fmt.Sprintf("/repos/%s/%s/deployments/%d/statuses", owner, repo, id), err)
	}
	return nil
}

// CutRunes shortens s to at most n runes, ending with "…" when cut.
func CutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"
)

const (
	// clockSkewAllowance widens the window in which a deployment found at the
	// head of the list counts as the result of an ambiguous create: its
	// created_on (Cloudflare's clock) is compared with the local time the call
	// started (the runner's clock). Both are NTP-synchronised in practice; a
	// minute covers ordinary skew, while an identical deployment made earlier
	// by someone else is, at worst, taken for ours (harmless: it is what we
	// wanted live).
	clockSkewAllowance = time.Minute
	// percentageTolerance compares percentages of the deployment we sent and
	// the one the API returns (which may round).
	percentageTolerance = 0.001
)

// DeploymentVersion is one version of a deployment and its share of traffic.
type DeploymentVersion struct {
	// VersionID is the version's UUID.
	VersionID string `json:"version_id"`
	// Percentage is the share of traffic, percent 0–100 (decimals allowed).
	Percentage float64 `json:"percentage"`
}

// Deployment is a split of a Worker's traffic over one or two versions (docs/workers-api.md §7.2).
type Deployment struct {
	// ID is the deployment's UUID.
	ID string `json:"id"`
	// CreatedOn is when the deployment was made.
	CreatedOn time.Time `json:"created_on"`
	// Source is the client that made it, e.g. "api", "wrangler", "dash".
	Source string `json:"source"`
	// Strategy is always "percentage".
	Strategy string `json:"strategy"`
	// AuthorEmail is the e-mail address of the deployment's author, if known.
	AuthorEmail string `json:"author_email"`
	// Versions are the versions and their percentages.
	Versions []DeploymentVersion `json:"versions"`
	// Annotations holds workers/message and workers/triggered_by.
	Annotations Annotations `json:"annotations"`
}

// lacks says which field the action needs is missing from an answer, or "".
func (d *Deployment) lacks() string {
	if d.ID == "" || len(d.Versions) == 0 {
		return "the deployment's id or versions"
	}
	return ""
}

// deploymentInput is the body of Create Deployment (docs/workers-api.md §7.1).
type deploymentInput struct {
	Strategy    string              `json:"strategy"`
	Versions    []DeploymentVersion `json:"versions"`
	Annotations map[string]string   `json:"annotations,omitempty"`
}

// ListDeployments returns a Worker's deployments, newest first: the first one
// is live. scriptName is the Worker's name (not its ID).
//
// API: GET /accounts/{account_id}/workers/scripts/{script_name}/deployments (docs/workers-api.md §4).
func (c *Client) ListDeployments(ctx context.Context, scriptName string) ([]Deployment, error) {
	if scriptName == "" {
		return nil, errors.New("failed to list deployments: the worker name is empty")
	}
	var res struct {
		Deployments []Deployment `json:"deployments"`
	}
	err := c.do(ctx, &call{
		method: http.MethodGet,
		path:   c.accountPath("workers", "scripts", scriptName, "deployments"),
		out:    &res,
		valid: func() string {
			// A Worker never deployed has "deployments": []; no list at all is
			// an answer the action cannot use.
			if res.Deployments == nil {
				return "the deployments list"
			}
			for i := range res.Deployments {
				if lack := res.Deployments[i].lacks(); lack != "" {
					return lack
				}
			}
			return ""
		},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to list deployments of worker %q: %w", scriptName, err)
	}
	return res.Deployments, nil
}

// CreateDeployment splits a Worker's traffic over versions (their
// percentages must add up to 100). scriptName is the Worker's name. message
// becomes workers/message when not empty; force creates the deployment even
// when the API would block it (a rollback across a secret change, code 10220).
//
// After an attempt with an unknown outcome it lists the deployments before
// re-sending: if the live one has exactly these versions and percentages and
// was created after the call started, it is returned.
//
// API: POST /accounts/{account_id}/workers/scripts/{script_name}/deployments (docs/workers-api.md §4, §7.1).
func (c *Client) CreateDeployment(ctx context.Context, scriptName string, versions []DeploymentVersion, message string, force bool) (*Deployment, error) {
	if scriptName == "" {
		return nil, errors.New("failed to create deployment: the worker name is empty")
	}
	if len(versions) == 0 {
		return nil, fmt.Errorf("failed to create deployment of worker %q: no versions given", scriptName)
	}
	in := deploymentInput{Strategy: "percentage", Versions: versions}
	if message != "" {
		in.Annotations = map[string]string{AnnotationMessage: message}
	}
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("failed to create deployment of worker %q: %w", scriptName, err)
	}
	var q url.Values
	if force {
		q = url.Values{"force": {"true"}}
	}
	// Taken before the first attempt; see clockSkewAllowance.
	notBefore := c.now().Add(-clockSkewAllowance)
	var d Deployment
	err = c.do(ctx, &call{
		method: http.MethodPost,
		path:   c.accountPath("workers", "scripts", scriptName, "deployments"),
		query:  q,
		body:   jsonBody(body),
		out:    &d,
		valid:  d.lacks,
		write:  true,
		check: func(ctx context.Context) (bool, error) {
			ds, err := c.ListDeployments(ctx, scriptName)
			if err != nil {
				return false, err
			}
			if len(ds) == 0 || !sameSplit(ds[0].Versions, versions) || ds[0].CreatedOn.Before(notBefore) {
				return false, nil
			}
			c.logf("found live deployment %s created by an earlier attempt", ds[0].ID)
			d = ds[0]
			return true, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create deployment of worker %q: %w", scriptName, err)
	}
	return &d, nil
}

// sameSplit reports whether two deployments route the same versions with the
// same percentages, in any order.
func sameSplit(got, want []DeploymentVersion) bool {
	if len(got) != len(want) {
		return false
	}
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if !used[i] && g.VersionID == w.VersionID && math.Abs(g.Percentage-w.Percentage) <= percentageTolerance {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

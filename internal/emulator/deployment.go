package emulator

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"
)

// deployment is one immutable traffic split of a Worker.
type deployment struct {
	id          string
	createdOn   time.Time
	source      string
	strategy    string
	versions    []DeploymentVersion
	annotations map[string]string
	authorEmail string
}

// DeploymentVersion is one entry of a deployment's traffic split.
type DeploymentVersion struct {
	// VersionID is the version's UUID.
	VersionID string `json:"version_id"`
	// Percentage is the share of traffic, percent (0, 100].
	Percentage float64 `json:"percentage"`
}

// percentTolerance is how far the sum of percentages may be from 100. wrangler checks with
// 0.001; the server's tolerance is unknown (docs/workers-api.md §7.1).
const percentTolerance = 0.001

type deploymentOut struct {
	ID          string              `json:"id"`
	CreatedOn   string              `json:"created_on"`
	Source      string              `json:"source"`
	Strategy    string              `json:"strategy"`
	Versions    []DeploymentVersion `json:"versions"`
	Annotations map[string]string   `json:"annotations"`
	AuthorEmail string              `json:"author_email,omitempty"`
}

func (d *deployment) out() deploymentOut {
	return deploymentOut{
		ID:          d.id,
		CreatedOn:   formatTime(d.createdOn),
		Source:      d.source,
		Strategy:    d.strategy,
		Versions:    slices.Clone(d.versions),
		Annotations: maps.Clone(d.annotations),
		AuthorEmail: d.authorEmail,
	}
}

// activeDeployment is the newest deployment, the one serving traffic, or nil.
func (w *worker) activeDeployment() *deployment {
	if len(w.deployments) == 0 {
		return nil
	}
	return w.deployments[len(w.deployments)-1]
}

// addDeployment makes d the active deployment and sets the Worker's deployed_on.
func (w *worker) addDeployment(d *deployment) {
	w.deployments = append(w.deployments, d)
	w.deployedOn = d.createdOn
}

// lookupScript finds {script} by Worker name only: whether the /scripts/ paths accept the
// 32-hex ID is undocumented (docs/workers-api.md §4, inferred: no). Callers hold s.mu.
func (s *Server) lookupScript(rc *reqCtx) (*worker, *reply) {
	w := s.account(rc.params["account"]).byName[rc.params["script"]]
	if w == nil {
		return nil, workerNotFound(rc.params["script"])
	}
	return w, nil
}

func invalidDeployment(format string, args ...any) *reply {
	return fail(http.StatusBadRequest, 10210, "Invalid deployment: %s", fmt.Sprintf(format, args...))
}

type deploymentInput struct {
	Strategy *string `json:"strategy"`
	Versions []struct {
		VersionID  *string  `json:"version_id"`
		Percentage *float64 `json:"percentage"`
	} `json:"versions"`
	Annotations map[string]any `json:"annotations"`
}

// createDeployment is D-C: POST /accounts/{a}/workers/scripts/{name}/deployments[?force=].
func (s *Server) createDeployment(rc *reqCtx) *reply {
	// force skips checks such as the secret-change rollback guard (10220), which the emulator
	// does not enforce, so it is accepted and has no effect.
	if _, rep := parseBoolQuery(rc.query, "force"); rep != nil {
		return rep
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupScript(rc)
	if rep != nil {
		return rep
	}
	var in deploymentInput
	if rep := decodeBody(rc.body, &in); rep != nil {
		return rep
	}
	if in.Strategy == nil || *in.Strategy != "percentage" {
		return invalidDeployment(`strategy must be "percentage"`)
	}
	if len(in.Versions) < 1 || len(in.Versions) > 2 {
		return invalidDeployment("a deployment has 1 or 2 versions, got %d", len(in.Versions))
	}
	var (
		split []DeploymentVersion
		sum   float64
		seen  = map[string]bool{}
	)
	for i, dv := range in.Versions {
		if dv.VersionID == nil || *dv.VersionID == "" {
			return invalidDeployment("versions[%d].version_id is required", i)
		}
		id := strings.ToLower(*dv.VersionID)
		if seen[id] {
			return invalidDeployment("version %s is listed twice", id)
		}
		seen[id] = true
		if dv.Percentage == nil {
			return invalidDeployment("versions[%d].percentage is required", i)
		}
		// The 2024 schema allowed 0..100, the 2025 one 0.01..100, and the docs show a 0 %
		// entry used with version overrides (conflict, docs/workers-api.md §7.1). The emulator
		// follows the newer schema: a version in a deployment gets some traffic.
		p := *dv.Percentage
		if p <= 0 || p > 100 {
			return invalidDeployment("versions[%d].percentage must be greater than 0 and at most 100, got %v", i, p)
		}
		sum += p
		split = append(split, DeploymentVersion{VersionID: id, Percentage: p})
	}
	if math.Abs(sum-100) > percentTolerance {
		return invalidDeployment("percentages must sum to 100, got %v", sum)
	}
	for _, dv := range split {
		v := w.versionByID(dv.VersionID)
		if v == nil {
			return versionNotFound(dv.VersionID)
		}
		// Durable Object migrations apply on deploy, to all traffic at once:
		// such a version cannot share a deployment (message inferred).
		if m := migrationsOf(v); m != nil && v.migrationTag == "" && len(split) > 1 {
			return invalidDeployment("version %s carries Durable Object migrations and must be deployed to 100%%", v.id)
		}
	}
	if len(split) == 1 {
		v := w.versionByID(split[0].VersionID)
		if m := migrationsOf(v); m != nil && m.NewTag != "" && v.migrationTag == "" {
			if m.OldTag != w.migrationTag {
				return fail(http.StatusBadRequest, 10079, "Migration tag precondition failed: version %s has old_tag %q but the Worker's current migration tag is %q", v.id, m.OldTag, w.migrationTag)
			}
			w.migrationTag, v.migrationTag = m.NewTag, m.NewTag
		}
	}
	annotations := map[string]string{"workers/triggered_by": "deployment"}
	if msg, present := in.Annotations["workers/message"]; present && msg != nil {
		str, isStr := msg.(string)
		if !isStr {
			return validationError("annotations.workers/message must be a string")
		}
		annotations["workers/message"] = truncateUTF8(str, maxMessageBytes)
	}
	d := &deployment{
		id:          newUUID(),
		createdOn:   s.now(),
		source:      "api",
		strategy:    "percentage",
		versions:    split,
		annotations: annotations,
		authorEmail: AuthorEmail,
	}
	w.addDeployment(d)
	return ok(d.out())
}

// listDeployments is D-L: {deployments: [...]}, newest first, unpaginated.
func (s *Server) listDeployments(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupScript(rc)
	if rep != nil {
		return rep
	}
	list := make([]deploymentOut, 0, len(w.deployments))
	for i := len(w.deployments) - 1; i >= 0; i-- {
		list = append(list, w.deployments[i].out())
	}
	return ok(map[string]any{"deployments": list})
}

func (w *worker) deploymentByID(id string) *deployment {
	id = strings.ToLower(id)
	for _, d := range w.deployments {
		if d.id == id {
			return d
		}
	}
	return nil
}

func deploymentNotFound(id string) *reply {
	return fail(http.StatusNotFound, 10336, "Deployment %q not found", id)
}

// getDeployment is D-G.
func (s *Server) getDeployment(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupScript(rc)
	if rep != nil {
		return rep
	}
	d := w.deploymentByID(rc.params["deployment"])
	if d == nil {
		return deploymentNotFound(rc.params["deployment"])
	}
	return ok(d.out())
}

// deleteDeployment is D-D: any deployment but the active one.
func (s *Server) deleteDeployment(rc *reqCtx) *reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, rep := s.lookupScript(rc)
	if rep != nil {
		return rep
	}
	d := w.deploymentByID(rc.params["deployment"])
	if d == nil {
		return deploymentNotFound(rc.params["deployment"])
	}
	if d == w.activeDeployment() {
		// The error docs list 10338 with HTTP 404, odd as that is (docs/workers-api.md §3.3).
		return fail(http.StatusNotFound, 10338, "Cannot delete deployment %s: it is the active deployment", d.id)
	}
	w.deployments = slices.DeleteFunc(w.deployments, func(x *deployment) bool { return x == d })
	return ok(nil)
}

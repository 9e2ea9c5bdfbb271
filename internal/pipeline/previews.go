package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/assets"
	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

// Previews mode (docs/previews.md): a pull request gets one Worker Preview, and
// each commit a Preview Deployment on it. Production versions and deployments
// are never touched.

// PreviewAPI is the part of Cloudflare's API the previews mode uses. Previews
// are beta at Cloudflare.
type PreviewAPI interface {
	GetPreview(ctx context.Context, worker, preview string) (*cloudflare.Preview, error)
	CreatePreview(ctx context.Context, worker string, in cloudflare.PreviewInput) (*cloudflare.Preview, error)
	DeletePreview(ctx context.Context, worker, preview string) (bool, error)
	ListPreviewDeployments(ctx context.Context, worker, preview string, page, perPage int) ([]cloudflare.PreviewDeployment, error)
	GetPreviewDeployment(ctx context.Context, worker, preview, id string, includeModules bool) (*cloudflare.PreviewDeployment, error)
	CreatePreviewDeployment(ctx context.Context, worker, preview string, in cloudflare.PreviewDeploymentInput) (*cloudflare.PreviewDeployment, error)
}

var _ PreviewAPI = (*cloudflare.Client)(nil)

// maxPreviewWorkerName is Cloudflare's limit on the name of a Worker that uses
// Previews (error 100315): "<preview>-<worker>" must fit a DNS label.
const maxPreviewWorkerName = 54

// earlierDeployments is how many deployments of the Preview one list read
// returns: the latest (for reuse and carried secrets) and the earlier ones.
const earlierDeployments = 11

// PreviewInfo is what a previews-mode run did.
type PreviewInfo struct {
	// Name, ID and URL are the Preview's; URL always serves its latest deployment.
	Name, ID, URL string
	// Created is true when this run created the Preview.
	Created bool
	// DeploymentID, DeploymentNumber and DeploymentURL are this commit's deployment.
	DeploymentID     string
	DeploymentNumber int
	DeploymentURL    string
	// Reused is true when the latest deployment already held this commit's build.
	Reused bool
	// Earlier are the Preview's earlier deployments, newest first (at most 10).
	Earlier []EarlierDeployment
	// Deleted is set on a closed pull request: true when the Preview was
	// removed, false when there was none.
	Deleted bool
}

// EarlierDeployment is one earlier deployment of the Preview, for the comment.
type EarlierDeployment struct {
	Number    int
	CommitSHA string
	URL       string
}

// previewName returns the Preview this run works on, or "" for versions mode.
// hasBlock says whether the configuration has a `previews` block.
func previewName(cfg *inputs.Config, ev *ghevent.Context, hasBlock bool) string {
	if cfg.Preview.Name != "" {
		return cfg.Preview.Name
	}
	if !ev.IsPullRequest() || ev.PRNumber() == 0 {
		return ""
	}
	switch cfg.Preview.Mode {
	case inputs.PreviewPreviews:
	case inputs.PreviewAuto:
		if !hasBlock {
			return ""
		}
	default:
		return ""
	}
	return "pr-" + strconv.Itoa(ev.PRNumber())
}

// closedPullRequest handles a closed pull request: with `delete-preview` its
// Preview is deleted whatever the mode of the checked-out configuration; a
// missing Preview (or Worker) is fine.
func closedPullRequest(ctx context.Context, cfg *inputs.Config, ev *ghevent.Context, deps Deps, res *Result) error {
	res.Skipped = ev.SkipReason()
	if !cfg.Preview.Delete {
		deps.Log.Noticef("%s", res.Skipped)
		return nil
	}
	st, err := resolveSettings(cfg, deps, workerOnly)
	if err != nil {
		return err
	}
	name := cfg.Preview.Name
	if name == "" {
		name = "pr-" + strconv.Itoa(ev.PRNumber())
	}
	res.WorkerName = st.worker
	res.Preview = &PreviewInfo{Name: name}
	if cfg.DryRun {
		deps.Log.Noticef("dry run: would delete Preview %q of Worker %s (pull request #%d closed)", name, st.worker, ev.PRNumber())
		return nil
	}
	api, ok := deps.API.(PreviewAPI)
	if !ok {
		return errors.New("the Cloudflare client does not support Worker Previews")
	}
	deleted, err := api.DeletePreview(ctx, st.worker, name)
	if err != nil {
		return fmt.Errorf("pull request #%d was closed, but its Preview %q could not be deleted: %w", ev.PRNumber(), name, err)
	}
	res.Preview.Deleted = deleted
	if deleted {
		deps.Log.Noticef("pull request #%d was closed: deleted Preview %q of Worker %s", ev.PRNumber(), name, st.worker)
	} else {
		deps.Log.Noticef("pull request #%d was closed: Worker %s has no Preview %q, nothing to delete", ev.PRNumber(), st.worker, name)
	}
	return nil
}

// applyPreviewSettings switches st to the configuration's `previews` block:
// bindings and vars come only from the block (wrangler does not inherit the
// top level's into Previews); main, the compatibility settings, limits and
// placement from the block when it sets them, else from the top level. The
// inputs apply on top, as in versions mode.
func applyPreviewSettings(cfg *inputs.Config, deps Deps, st *settings) error {
	if st.configPath == "" {
		return nil // no configuration: the inputs alone, as in versions mode
	}
	pv := st.previews
	if pv == nil {
		// A configuration without a `previews` block (mode forced by the
		// `preview` or `preview-name` input): still none of the top level's
		// bindings, the rest falls back to the top level.
		pv = wrangler.DefaultPreviews(st.project.version)
		st.previews = pv
	}
	if len(pv.Ignored) > 0 {
		deps.Log.Noticef("%s: these keys are not applied to Preview deployments by workers-deploy: %s", filepath.Base(st.configPath), strings.Join(pv.Ignored, ", "))
	}
	if pv.Main != "" {
		st.configMain = pv.Main
	}
	// A Preview is bundled with the block's `define` only, as wrangler bundles it.
	st.build.Define = pv.Define
	if cfg.CompatibilityDate == "" && pv.CompatibilityDate != "" {
		if err := inputs.CheckCompatibilityDate(pv.CompatibilityDate, deps.Now()); err != nil {
			return &inputs.Error{Input: "config", Err: fmt.Errorf("%s: `previews.compatibility_date`: %w", filepath.Base(st.configPath), err)}
		}
		st.compatDate = pv.CompatibilityDate
	}
	if !cfg.CompatibilityFlagsSet && pv.HasCompatibilityFlags {
		st.compatFl = pv.CompatibilityFlags
	}
	block := pv.Bindings
	// The assets binding belongs to the top-level `assets` section, which
	// Previews share.
	for _, b := range st.topBindings {
		if b.Type == "assets" && !slices.ContainsFunc(block, func(x bindings.Binding) bool { return x.Name == b.Name }) {
			block = append(slices.Clone(block), b)
		}
	}
	wc := &wrangler.Config{Path: st.configPath, Bindings: block}
	if err := st.resolveBindings(cfg, wc); err != nil {
		return err
	}
	if missing := missingPreviewBindings(st.topBindings, st.project.bindings); len(missing) > 0 {
		deps.Log.Warningf("%s: the top level configures bindings that Preview deployments do not get: %s. Previews do not inherit the top level's bindings and vars (wrangler's rule); add them under `previews` in %s, or to the Worker's Previews settings in the Cloudflare dashboard, or the Preview runs without them",
			filepath.Base(st.configPath), strings.Join(missing, ", "), filepath.Base(st.configPath))
	}
	return nil
}

// missingPreviewBindings lists, as "NAME (type)", the top level's bindings that
// the Preview deployment will not have by name.
func missingPreviewBindings(top, sending []bindings.Binding) []string {
	var out []string
	for _, b := range top {
		if !slices.ContainsFunc(sending, func(x bindings.Binding) bool { return x.Name == b.Name }) {
			out = append(out, fmt.Sprintf("%s (%s)", b.Name, b.Type))
		}
	}
	sort.Strings(out)
	return out
}

// runPreview uploads this commit as a Preview Deployment of the Preview name.
func runPreview(ctx context.Context, cfg *inputs.Config, ev *ghevent.Context, deps Deps, st *settings, b *bundle.Bundle, res *Result, name string) error {
	if len(st.worker) > maxPreviewWorkerName && !inputs.IsWorkerID(st.worker) {
		return &inputs.Error{Input: "worker", Err: fmt.Errorf("Worker name %q is %d characters; a Worker with Previews may have at most %d (Cloudflare's limit). Use a shorter name, or `preview: versions`", st.worker, len(st.worker), maxPreviewWorkerName)}
	}
	if cfg.Deploy {
		return &inputs.Error{Input: "deploy", Err: errors.New("`deploy: true` deploys production, but this run updates a Worker Preview (previews mode); a run does one or the other")}
	}
	res.Preview = &PreviewInfo{Name: name}
	if cfg.DryRun {
		deps.Log.Noticef("dry run: would deploy %d modules to Preview %q of Worker %s", len(b.Modules), name, st.worker)
		return nil
	}
	api, ok := deps.API.(PreviewAPI)
	if !ok {
		return errors.New("the Cloudflare client does not support Worker Previews")
	}
	w, p, earlier, err := previewFor(ctx, api, cfg, st, deps, res, name)
	if err != nil {
		return err
	}
	res.Preview.ID = p.ID
	if len(p.URLs) > 0 {
		res.Preview.URL = p.URLs[0]
	}

	d, reused, err := previewDeploymentFor(ctx, api, ev, deps, st, b, res, w.Name, p, earlier)
	if err != nil {
		return err
	}
	res.Preview.DeploymentID, res.Preview.DeploymentNumber, res.Preview.Reused = d.ID, d.Number, reused
	if len(d.URLs) > 0 {
		res.Preview.DeploymentURL = d.URLs[0]
	}
	for _, e := range earlier {
		if e.ID == d.ID || len(res.Preview.Earlier) == earlierDeployments-1 {
			continue
		}
		ed := EarlierDeployment{Number: e.Number, CommitSHA: e.Annotations[cloudflare.AnnotationCommitSHA]}
		if len(e.URLs) > 0 {
			ed.URL = e.URLs[0]
		}
		res.Preview.Earlier = append(res.Preview.Earlier, ed)
	}
	res.PreviewURL, res.CommitURL = res.Preview.URL, res.Preview.DeploymentURL
	if reused {
		deps.Log.Infof("Reused deployment #%d (%s) of Preview %q: it already holds this commit's build", d.Number, d.ID, name)
	} else {
		deps.Log.Infof("Created deployment #%d (%s) of Preview %q with tag %q", d.Number, d.ID, name, res.Tag)
	}
	if res.PreviewURL != "" {
		deps.Log.Infof("Preview URL: %s", res.PreviewURL)
	}
	if res.CommitURL != "" {
		deps.Log.Infof("This commit: %s", res.CommitURL)
	}
	if deps.live.withModules {
		res.Changes = changesFor(ctx, deps.API, st, w, res, deps.Log)
	}
	return nil
}

// previewFor finds the Preview name (creating it, and the Worker, when
// missing) and, when it has been deployed, the first page of its deployments.
//
// The Preview endpoints take the Worker's name, so a Worker given by name is
// not read (docs/previews.md, "Requests"): a missing Preview is created
// straight away, and only when that create answers that the Worker is
// missing is the Worker looked up or created. w.ID is then empty unless the
// run created the Worker.
func previewFor(ctx context.Context, api PreviewAPI, cfg *inputs.Config, st *settings, deps Deps, res *Result, name string) (*worker, *cloudflare.Preview, []cloudflare.PreviewDeployment, error) {
	var w *worker
	if inputs.IsWorkerID(st.worker) {
		// The name is needed for the deployments endpoints and the limit.
		var err error
		if w, err = resolveWorkerFor(ctx, deps.API, cfg, st, deps.Log); err != nil {
			return nil, nil, nil, err
		}
		if len(w.Name) > maxPreviewWorkerName {
			return nil, nil, nil, &inputs.Error{Input: "worker", Err: fmt.Errorf("Worker name %q is %d characters; a Worker with Previews may have at most %d (Cloudflare's limit)", w.Name, len(w.Name), maxPreviewWorkerName)}
		}
	} else {
		w = &worker{Name: st.worker, deployed: true}
	}
	// The Worker's fields are set once it is known to exist: a Preview answered, or the Worker
	// was read or created.
	setWorker := func() {
		res.WorkerID, res.WorkerName, res.WorkerCreated, res.WorkerExists = w.ID, w.Name, w.created, true
	}
	if w.ID != "" {
		setWorker()
	}

	p, err := api.GetPreview(ctx, w.Name, name)
	switch {
	case err == nil:
		setWorker()
		if p.DeployedOn == nil {
			return w, p, nil, nil
		}
		earlier, err := api.ListPreviewDeployments(ctx, w.Name, p.ID, 1, earlierDeployments)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("failed to list the deployments of Preview %q: %w", name, err)
		}
		return w, p, earlier, nil
	case !cloudflare.IsNotFound(err):
		return nil, nil, nil, fmt.Errorf("failed to look up Preview %q of Worker %s: %w", name, w.Name, err)
	}

	in := cloudflare.PreviewInput{Name: name}
	if pv := st.previews; pv != nil {
		in.Tags, in.Logpush, in.Observability, in.TailConsumers = pv.Worker.Tags, pv.Worker.Logpush, pv.Worker.Observability, pv.TailConsumers
	}
	p, err = api.CreatePreview(ctx, w.Name, in)
	if err != nil && w.ID == "" {
		// The Worker was not read: find out whether it is missing (a 404 on
		// the create says so; any other refusal is checked by reading it).
		found, lerr := workerOrCreate(ctx, deps.API, cfg, st, deps.Log, cloudflare.IsNotFound(err))
		if lerr != nil {
			return nil, nil, nil, lerr
		}
		w = found
		setWorker()
		if found.created {
			p, err = api.CreatePreview(ctx, w.Name, in)
		}
	}
	if err != nil {
		return nil, nil, nil, fmt.Errorf("failed to create Preview %q of Worker %s: %w", name, w.Name, err)
	}
	setWorker()
	res.Preview.Created = true
	deps.Log.Infof("Created Preview %q of %s", name, w.Name)
	return w, p, nil, nil
}

// workerOrCreate is called when creating a Preview of a Worker that was
// addressed by name and not read has failed. missing says the API answered
// that the Worker does not exist; otherwise the Worker is read to tell.
// It returns the Worker, created when it was missing and that is allowed.
func workerOrCreate(ctx context.Context, api API, cfg *inputs.Config, st *settings, log Logger, missing bool) (*worker, error) {
	if missing {
		return createMissingWorker(ctx, api, cfg, st, log)
	}
	return resolveWorkerFor(ctx, api, cfg, st, log)
}

// previewDeploymentFor reuses the Preview's latest deployment when it holds
// this commit's build, and otherwise creates a deployment. earlier is the
// first page of the Preview's deployments, newest first.
func previewDeploymentFor(ctx context.Context, api PreviewAPI, ev *ghevent.Context, deps Deps, st *settings, b *bundle.Bundle, res *Result, worker string, p *cloudflare.Preview, earlier []cloudflare.PreviewDeployment) (*cloudflare.PreviewDeployment, bool, error) {
	if len(earlier) > 0 && earlier[0].Tag() == res.Tag {
		latest, err := api.GetPreviewDeployment(ctx, worker, p.ID, earlier[0].ID, true)
		if err != nil {
			return nil, false, fmt.Errorf("failed to read deployment %s of Preview %q to compare its content: %w", earlier[0].ID, p.Name, err)
		}
		diff := compareVersion(latest.AsVersion(), b, st)
		if diff == "" {
			return latest, true, nil
		}
		// A Preview is a mutable environment: the same commit with other
		// content is simply deployed again.
		deps.Log.Noticef("Preview %q's latest deployment has tag %q but %s; deploying this build as a new deployment", p.Name, res.Tag, diff)
	}
	if err := b.Verify(); err != nil {
		return nil, false, err
	}
	in := cloudflare.PreviewDeploymentInput{
		MainModule:         b.MainModule,
		CompatibilityDate:  st.compatDate,
		CompatibilityFlags: st.compatFl,
		Annotations:        previewAnnotations(ev, res),
	}
	if pv := st.previews; pv != nil {
		in.Limits, in.Placement, in.CacheOptions = pv.Limits, pv.Placement, pv.CacheOptions
	}
	// A Preview implements its own Durable Object namespaces: it gets the
	// configuration's migrations after the tag its latest deployment left
	// (all of them on its first deployment), as wrangler sends them.
	var tag string
	if len(earlier) > 0 {
		tag = earlier[0].MigrationTag
	}
	mig, warning := pendingMigrations(st.project.version.Migrations, tag)
	if warning != "" {
		deps.Log.Warningf("Preview %q: %s", p.Name, strings.Replace(warning, "the Worker's migration tag", "the Preview's migration tag", 1))
	}
	in.Migrations = mig
	all := st.project.bindings
	if st.project.keepSecrets && len(earlier) > 0 {
		all = append(slices.Clone(all), carriedPreviewSecrets(earlier[0], all)...)
	}
	in.Bindings = bindings.Raw(all)
	res.Bindings = bindingInfo(all)
	st.sent = all
	if m := st.project.assets; m != nil {
		up, err := assets.Upload(ctx, deps.API, worker, m, assets.DefaultConcurrency)
		if err != nil {
			return nil, false, fmt.Errorf("failed to upload the static assets of %s: %w", m.Dir, err)
		}
		res.AssetsUploaded = up.Uploaded
		if res.Assets != nil {
			res.Assets.Uploaded = up.Uploaded
		}
		if in.Assets, err = st.project.assetsJSON(up.CompletionJWT); err != nil {
			return nil, false, err
		}
		if err := b.Verify(); err != nil {
			return nil, false, err
		}
	}
	for _, m := range b.Modules {
		in.Modules = append(in.Modules, cloudflare.ModuleUpload{Name: m.Name, ContentType: m.ContentType, Open: m.Open})
	}
	d, err := api.CreatePreviewDeployment(ctx, worker, p.ID, in)
	if err != nil {
		return nil, false, fmt.Errorf("failed to create a deployment of Preview %q: %w", p.Name, err)
	}
	return d, false, nil
}

// carriedPreviewSecrets are `inherit` bindings for the secrets of the
// Preview's latest deployment that this run does not send (keep-secrets).
func carriedPreviewSecrets(latest cloudflare.PreviewDeployment, sending []bindings.Binding) []bindings.Binding {
	sent := map[string]bool{}
	for _, b := range sending {
		sent[b.Name] = true
	}
	var out []bindings.Binding
	for _, raw := range latest.Bindings {
		var b struct{ Name, Type string }
		if json.Unmarshal(raw, &b) != nil || b.Type != "secret_text" || sent[b.Name] {
			continue
		}
		out = append(out, bindings.Inherit(b.Name, ""))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// previewAnnotations are the deployment's annotations: the tag and message,
// and the CI context, each cut to the schema's byte limit.
func previewAnnotations(ev *ghevent.Context, res *Result) map[string]string {
	a := map[string]string{cloudflare.AnnotationTag: res.Tag}
	put := func(k, v string, limit int) {
		if v != "" {
			a[k] = inputs.TruncateUTF8(v, limit)
		}
	}
	put(cloudflare.AnnotationMessage, res.Message, inputs.MaxMessageBytes)
	sha := ev.SHA
	if pr := ev.Payload.PR; ev.IsPullRequest() && pr != nil {
		if pr.Head.SHA != "" {
			sha = pr.Head.SHA
		}
		put(cloudflare.AnnotationPullRequestNumber, strconv.Itoa(pr.Number), 20)
		put(cloudflare.AnnotationPullRequestTitle, pr.Title, 512)
		put(cloudflare.AnnotationPullRequestURL, pr.HTMLURL, 512)
	}
	put(cloudflare.AnnotationCommitSHA, sha, 64)
	if ev.Repository != "" {
		put(cloudflare.AnnotationRepositoryURL, ev.ServerURL+"/"+ev.Repository, 512)
	}
	return a
}

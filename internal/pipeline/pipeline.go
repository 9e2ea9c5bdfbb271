package pipeline

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/gates"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/rollout"
	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

// ErrTagConflict means a version with the run's tag exists with other content.
var ErrTagConflict = errors.New("a version with this tag already exists with different content")

// ErrWorkerNotFound means the Worker does not exist and may not be created.
var ErrWorkerNotFound = errors.New("the Worker does not exist")

// Deps is what a run talks to.
type Deps struct {
	// API is nil only for a dry run without credentials.
	API API
	Log Logger
	// Now is the clock (time.Now in production).
	Now func() time.Time
	// Observer follows the rollout; nil means NopObserver.
	Observer Observer
	// Clock times the rollout's holds; nil means the wall clock.
	Clock rollout.Clock
	// HTTPClient sends health checks; nil means a new http.Client.
	HTTPClient *http.Client
	// Analytics answers the error-rate gate's queries; nil means API when it
	// implements gates.InvocationsAPI (as *cloudflare.Client does).
	Analytics gates.InvocationsAPI

	// live memoises the one deployment list read before the upload (set by Run).
	live *liveMemo
}

// Module is one uploaded module, for reports.
type Module struct {
	Name        string
	ContentType string
	Size        int64
	// SHA256 is the hex SHA-256 of the module's bytes.
	SHA256 string
}

// Result is what a run did; the reporter turns it into outputs and a summary.
type Result struct {
	// Skipped is set when the event left nothing to do.
	Skipped string
	DryRun  bool

	WorkerID      string
	WorkerName    string
	WorkerCreated bool
	// WorkerExists is false on a dry run that found no Worker.
	WorkerExists bool

	Tag, Message string
	MainModule   string
	Modules      []Module
	RawBytes     int64
	GzipBytes    int64
	// Digest is the bundle's content digest (hex SHA-256 over the main module
	// and each module's name, type and hash), the one version reuse compares.
	Digest             string
	CompatibilityDate  string
	CompatibilityFlags []string
	ConfigFile         string

	VersionID     string
	VersionNumber int
	VersionReused bool
	// PreviewURL is what a reviewer should open: the Preview's URL in previews
	// mode, the version's first preview URL otherwise.
	PreviewURL string
	// CommitURL always serves exactly this run's code: the Preview
	// Deployment's URL in previews mode, the version URL otherwise.
	CommitURL string
	// Preview is set in previews mode and on a closed pull request (previews.go).
	Preview *PreviewInfo

	Deployed           bool
	DeploymentID       string
	DeployedPercentage float64
	PreviousVersionID  string

	// Stages reports each stage of the rollout (deploy.go).
	Stages     []StageReport
	RolledBack bool
	// Bindings lists the version's bindings by name and type.
	Bindings []BindingInfo
	// AssetsUploaded counts the static asset files this run sent (files the
	// service already had are not sent again).
	AssetsUploaded int
	// Assets describes the static assets, nil without an assets directory.
	Assets *AssetsReport
	// Changes is what a pull-request run's build changes against production
	// (changes.go); nil when not computed (production runs, dry runs).
	Changes *Changes
	// CommentURL is the sticky PR comment written.
	CommentURL string

	// Bundled is set when the entry was bundled in process (bundling.go).
	Bundled *Bundled

	// Requests counts Cloudflare API requests made (attempts included) when
	// the API client reports it.
	Requests int
}

// settings are the values after inputs, configuration and defaults merged.
type settings struct {
	worker     string
	configMain string
	compatDate string
	compatFl   []string
	configPath string
	// rules are the configuration's module rules; uploadSourceMaps uploads .map files.
	rules            []wrangler.Rule
	uploadSourceMaps bool
	// project holds bindings, secrets, assets and Worker settings (settings.go).
	project projectSettings
	// build is what bundling takes from the configuration (bundling.go).
	build wrangler.Build
	// live is the run's deployment-list memo (Deps.live).
	live *liveMemo
	// migrations is the version's migrations object, nil for none (migrations.go).
	migrations json.RawMessage
	// previews is the configuration's `previews` block, nil without one;
	// topBindings are the top level's bindings (previews.go).
	previews    *wrangler.Previews
	topBindings []bindings.Binding
	// sent are the bindings of the version or Preview Deployment this run
	// created (carried secrets included); nil when it reused one.
	sent []bindings.Binding
}

// Run performs one run of the action.
func Run(ctx context.Context, cfg *inputs.Config, ev *ghevent.Context, deps Deps) (*Result, error) {
	res := &Result{DryRun: cfg.DryRun}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Observer == nil {
		deps.Observer = NopObserver{}
	}
	deps.live = &liveMemo{}
	if ev.IsPullRequest() && ev.Payload.Action == "closed" && !cfg.Rollout.Promote() {
		return res, closedPullRequest(ctx, cfg, ev, deps, res)
	}
	if reason := ev.SkipReason(); reason != "" {
		res.Skipped = reason
		deps.Log.Noticef("%s", reason)
		return res, nil
	}
	if cfg.Rollout.Promote() {
		// `version-id`: deploy an existing version, no upload (promote.go).
		return res, promote(ctx, cfg, deps, res)
	}
	st, err := resolveSettings(cfg, deps, forUpload)
	if err != nil {
		return res, err
	}
	st.live = deps.live
	preview := previewName(cfg, ev, st.previews != nil)
	deps.live.withModules = wantsChanges(cfg, ev, preview)
	if preview != "" {
		if err := applyPreviewSettings(cfg, deps, st); err != nil {
			return res, err
		}
	}
	res.WorkerName, res.CompatibilityDate, res.CompatibilityFlags, res.ConfigFile = st.worker, st.compatDate, st.compatFl, st.configPath
	res.Bindings = bindingInfo(st.project.bindings)
	if inputs.IsWorkerID(st.worker) {
		res.WorkerID, res.WorkerName = st.worker, ""
	}

	b, bundled, err := gather(ctx, cfg, st)
	if err != nil {
		return res, err
	}
	if bundled != nil {
		res.Bundled = bundled
		logBundled(deps.Log, bundled)
	}
	if err := st.project.buildAssets(b); err != nil {
		return res, err
	}
	res.MainModule, res.RawBytes, res.GzipBytes, res.Digest = b.MainModule, b.RawBytes, b.GzipBytes, b.Digest
	res.Assets = assetsReport(cfg, st.project.assets)
	logUploadModel(deps.Log, cfg, b)
	for _, m := range b.Modules {
		res.Modules = append(res.Modules, Module{Name: m.Name, ContentType: m.ContentType, Size: m.Size, SHA256: hex.EncodeToString(m.SHA256[:])})
	}

	res.Tag = cfg.Tag
	if res.Tag == "" {
		res.Tag = ev.DefaultTag()
	}
	if res.Tag == "" {
		// Outside a workflow there is no commit SHA: tag by content so that a
		// rerun of the same build is still idempotent.
		res.Tag = "content-" + b.Digest[:16]
		deps.Log.Noticef("no commit SHA (GITHUB_SHA) and no `tag` input: tagging the version %q by its content", res.Tag)
	}
	if err := inputs.CheckTag(res.Tag); err != nil {
		return res, &inputs.Error{Input: "tag", Err: err}
	}
	res.Message = cfg.Message
	if res.Message == "" {
		res.Message = inputs.TruncateUTF8(ev.DefaultMessage(), inputs.MaxMessageBytes)
	}
	logBundle(deps.Log, res)

	if preview != "" {
		return res, runPreview(ctx, cfg, ev, deps, st, b, res, preview)
	}
	if cfg.DryRun {
		return res, dryRun(ctx, cfg, deps, st, b, res)
	}
	api := deps.API
	// Reads first: anything that would fail the run fails it before any write.
	if err := planMigrations(ctx, api, cfg, st, deps.Log); err != nil {
		return res, err
	}
	if err := resolveResources(ctx, api, cfg, st, deps.Log); err != nil {
		return res, err
	}
	w, err := resolveWorkerFor(ctx, api, cfg, st, deps.Log)
	if err != nil {
		return res, err
	}
	if err := createResources(ctx, api, st, deps.Log); err != nil {
		return res, err
	}
	res.Bindings = bindingInfo(st.project.bindings)
	res.WorkerID, res.WorkerName, res.WorkerCreated, res.WorkerExists = w.ID, w.Name, w.created, true

	v, reused, err := versionFor(ctx, api, w.ID, b, res, st, deps.Log)
	if err != nil {
		return res, err
	}
	res.VersionID, res.VersionNumber, res.VersionReused = v.ID, v.Number, reused
	if len(v.URLs) > 0 {
		res.PreviewURL = v.URLs[0]
		res.CommitURL = v.URLs[0]
	}
	if reused {
		deps.Log.Infof("Reused version %s (#%d): it already has tag %q and the same code, settings and binding names. Secret values are not compared (the API never returns them): to send changed secret values, set a new `tag` (for example the SHA plus the run attempt)", v.ID, v.Number, res.Tag)
	} else {
		deps.Log.Infof("Created version %s (#%d) of %s with tag %q", v.ID, v.Number, w.Name, res.Tag)
	}
	if res.Assets != nil && res.Assets.Uploaded >= 0 {
		deps.Log.Infof("Assets: uploaded %d of %d files (the others were already stored)", res.Assets.Uploaded, res.Assets.Files)
	}
	if res.PreviewURL != "" {
		deps.Log.Infof("Preview URL: %s", res.PreviewURL)
	}
	if deps.live.withModules {
		res.Changes = changesFor(ctx, api, st, w, res, deps.Log)
	}

	deps.Observer.VersionReady(res)
	if !cfg.Deploy {
		return res, nil
	}
	return res, deploy(ctx, cfg, deps, w.Name, res)
}

// collect finds the modules by the upload model (bundle.Collect).
func collect(ctx context.Context, cfg *inputs.Config, st *settings) (*bundle.Bundle, error) {
	rules := make([]bundle.Rule, len(st.rules))
	for i, r := range st.rules {
		rules[i] = bundle.Rule{Type: r.Type, Globs: r.Globs, Fallthrough: r.Fallthrough}
	}
	return bundle.Collect(ctx, bundle.Options{
		Dir:              cfg.WorkingDirectory,
		Patterns:         cfg.Modules,
		MainModule:       cfg.MainModule,
		ConfigMain:       st.configMain,
		Rules:            rules,
		UploadSourceMaps: st.uploadSourceMaps,
		AssetsDir:        st.project.assetsDir,
		Extra:            st.project.assetExtras(),
		AssetsOnly:       st.project.assetsDir != "",
		NodeCompat:       nodeCompatOn(st.compatDate, st.compatFl),
	})
}

// logUploadModel says where the modules came from and what was left out.
func logUploadModel(log Logger, cfg *inputs.Config, b *bundle.Bundle) {
	switch b.Source {
	case bundle.SourceEntryDir:
		base := b.Base
		if base == "" {
			base = "."
		}
		log.Infof("Modules: the entry's folder %s/ (input `modules` not set)", base)
	case bundle.SourceFallback:
		log.Infof("Modules: %s (input `modules` not set and no entry named)", bundle.FallbackPatterns)
	}
	if b.AssetsOnly() {
		log.Noticef("no module to upload: an assets-only Worker (its static assets and their settings only)")
	}
	if b.MainNote != "" {
		log.Noticef("%s", b.MainNote)
	}
	if len(b.Unmatched) > 0 {
		log.Warningf("these `modules` patterns matched no file: %s", strings.Join(b.Unmatched, ", "))
	}
	if n := len(b.Skipped); n > 0 {
		shown := b.Skipped[:min(n, 5)]
		more := ""
		if n > len(shown) {
			more = fmt.Sprintf(", … and %d more", n-len(shown))
		}
		log.Noticef("%d file(s) matched no module rule and are not uploaded, as wrangler skips them (%s%s); a rule in the configuration's `rules` uploads such files", n, strings.Join(shown, ", "), more)
	}
	if b.SourceMapsLeftOut > 0 {
		log.Infof("%d source map(s) left out (set input `upload-source-maps: true` or `upload_source_maps` to upload them)", b.SourceMapsLeftOut)
	}
	for _, w := range b.Warnings {
		log.Warningf("%s", w)
	}
}

func logBundle(log Logger, res *Result) {
	log.Group(fmt.Sprintf("Bundle: %d modules, %s (%s gzip), main %s", len(res.Modules), bundle.HumanBytes(res.RawBytes), bundle.HumanBytes(res.GzipBytes), res.MainModule))
	for _, m := range res.Modules {
		log.Infof("  %-40s %-32s %s", m.Name, m.ContentType, bundle.HumanBytes(m.Size))
	}
	log.EndGroup()
	if res.Assets != nil {
		log.Infof("Assets: %s", res.Assets)
	}
}

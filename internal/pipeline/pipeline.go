package pipeline

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/ghevent"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

// ErrTagConflict means a version with the run's tag exists with other content.
var ErrTagConflict = errors.New("a version with this tag already exists with different content")

// ErrWorkerNotFound means the Worker does not exist and may not be created.
var ErrWorkerNotFound = errors.New("the Worker does not exist")

// Deps is what a run talks to.
type Deps struct {
	// API is nil only for a dry run without credentials.
	API      API
	Log      Logger
	ReadFile func(string) ([]byte, error)
	// Now is the clock (time.Now in production).
	Now func() time.Time
}

// Module is one uploaded module, for reports.
type Module struct {
	Name        string
	ContentType string
	Size        int64
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

	Tag, Message       string
	MainModule         string
	Modules            []Module
	RawBytes           int64
	GzipBytes          int64
	CompatibilityDate  string
	CompatibilityFlags []string
	ConfigFile         string

	VersionID     string
	VersionNumber int
	VersionReused bool
	PreviewURL    string

	Deployed           bool
	DeploymentID       string
	DeployedPercentage float64
	PreviousVersionID  string

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
}

// Run performs one run of the action.
func Run(ctx context.Context, cfg *inputs.Config, ev *ghevent.Context, deps Deps) (*Result, error) {
	res := &Result{DryRun: cfg.DryRun}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if reason := ev.SkipReason(); reason != "" {
		res.Skipped = reason
		deps.Log.Noticef("%s", reason)
		return res, nil
	}
	st, err := resolveSettings(cfg, deps)
	if err != nil {
		return res, err
	}
	res.WorkerName, res.CompatibilityDate, res.CompatibilityFlags, res.ConfigFile = st.worker, st.compatDate, st.compatFl, st.configPath
	if inputs.IsWorkerID(st.worker) {
		res.WorkerID, res.WorkerName = st.worker, ""
	}

	b, err := bundle.Collect(ctx, bundle.Options{
		Dir:        cfg.WorkingDirectory,
		Patterns:   cfg.Modules,
		MainModule: cfg.MainModule,
		ConfigMain: st.configMain,
	})
	if err != nil {
		return res, err
	}
	res.MainModule, res.RawBytes, res.GzipBytes = b.MainModule, b.RawBytes, b.GzipBytes
	if b.MainNote != "" {
		deps.Log.Noticef("%s", b.MainNote)
	}
	if len(b.Unmatched) > 0 {
		deps.Log.Warningf("these `modules` patterns matched no file: %s", strings.Join(b.Unmatched, ", "))
	}
	for _, m := range b.Modules {
		res.Modules = append(res.Modules, Module{Name: m.Name, ContentType: m.ContentType, Size: m.Size})
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

	if cfg.DryRun {
		return res, dryRun(ctx, cfg, deps, st, b, res)
	}
	api := deps.API
	w, err := resolveWorker(ctx, api, cfg, st.worker, deps.Log)
	if err != nil {
		return res, err
	}
	res.WorkerID, res.WorkerName, res.WorkerCreated, res.WorkerExists = w.ID, w.Name, w.created, true

	v, reused, err := versionFor(ctx, api, w.ID, b, res, st)
	if err != nil {
		return res, err
	}
	res.VersionID, res.VersionNumber, res.VersionReused = v.ID, v.Number, reused
	if len(v.URLs) > 0 {
		res.PreviewURL = v.URLs[0]
	}
	if reused {
		deps.Log.Infof("Reused version %s (#%d): it already has tag %q and the same content", v.ID, v.Number, res.Tag)
	} else {
		deps.Log.Infof("Created version %s (#%d) of %s with tag %q", v.ID, v.Number, w.Name, res.Tag)
	}
	if res.PreviewURL != "" {
		deps.Log.Infof("Preview URL: %s", res.PreviewURL)
	}

	if !cfg.Deploy {
		return res, nil
	}
	return res, deploy(ctx, api, w.Name, res, deps.Log)
}

// resolveSettings merges inputs over the wrangler configuration.
func resolveSettings(cfg *inputs.Config, deps Deps) (*settings, error) {
	st := &settings{worker: cfg.Worker, compatDate: cfg.CompatibilityDate, compatFl: cfg.CompatibilityFlags}
	path, err := wrangler.Find(cfg.WorkingDirectory, cfg.ConfigFile)
	switch {
	case errors.Is(err, wrangler.ErrNotFound):
	case err != nil:
		return nil, &inputs.Error{Input: "config", Err: err}
	case path != "":
		wc, err := wrangler.Load(path, deps.ReadFile)
		if err != nil {
			return nil, &inputs.Error{Input: "config", Err: err}
		}
		st.configPath = path
		if len(wc.Unsupported) > 0 {
			return nil, &inputs.Error{Input: "config", Err: fmt.Errorf("%s sets %s: bindings and assets from wrangler configuration are not supported by this build yet, and deploying without them would ship a broken Worker; remove them or use `config: none` if the Worker does not need them",
				filepath.Base(path), strings.Join(wc.Unsupported, ", "))}
		}
		if len(wc.Ignored) > 0 {
			deps.Log.Noticef("%s: these keys are not applied by workers-deploy (manage them with wrangler or Terraform): %s", filepath.Base(path), strings.Join(wc.Ignored, ", "))
		}
		if st.worker == "" {
			st.worker = wc.Name
			if st.worker != "" {
				if err := inputs.CheckWorkerName(st.worker); err != nil {
					return nil, &inputs.Error{Input: "config", Err: fmt.Errorf("%s: `name`: %w", filepath.Base(path), err)}
				}
			}
		}
		st.configMain = wc.Main
		if st.compatDate == "" && wc.CompatibilityDate != "" {
			if err := inputs.CheckCompatibilityDate(wc.CompatibilityDate, deps.Now()); err != nil {
				return nil, &inputs.Error{Input: "config", Err: fmt.Errorf("%s: `compatibility_date`: %w", filepath.Base(path), err)}
			}
			st.compatDate = wc.CompatibilityDate
		}
		if !cfg.CompatibilityFlagsSet {
			st.compatFl = wc.CompatibilityFlags
		}
	}
	if st.worker == "" {
		return nil, &inputs.Error{Input: "worker", Err: errors.New("no Worker named: set the `worker` input, or `name` in wrangler configuration")}
	}
	if st.compatDate == "" {
		return nil, &inputs.Error{Input: "compatibility-date", Err: errors.New("no compatibility date: set the `compatibility-date` input (YYYY-MM-DD) or `compatibility_date` in wrangler configuration")}
	}
	return st, nil
}

type worker struct {
	ID, Name string
	created  bool
}

// resolveWorker finds the Worker by name or ID and creates it when allowed.
func resolveWorker(ctx context.Context, api API, cfg *inputs.Config, nameOrID string, log Logger) (*worker, error) {
	w, err := api.GetWorker(ctx, nameOrID)
	if err == nil {
		log.Infof("Worker %s (%s) found", w.Name, w.ID)
		return &worker{ID: w.ID, Name: w.Name}, nil
	}
	if !cloudflare.IsNotFound(err) {
		return nil, fmt.Errorf("failed to look up Worker %q: %w", nameOrID, err)
	}
	if inputs.IsWorkerID(nameOrID) {
		return nil, &inputs.Error{Input: "worker", Err: fmt.Errorf("%w: no Worker has ID %s in this account; check `worker` and `account-id`", ErrWorkerNotFound, nameOrID)}
	}
	if !cfg.CreateWorker {
		return nil, &inputs.Error{Input: "create-worker", Err: fmt.Errorf("%w: Worker %q is not in this account and `create-worker` is false; provision it first (Terraform `cloudflare_worker`, the dashboard) or set `create-worker: true`", ErrWorkerNotFound, nameOrID)}
	}
	// Worker-level settings are written only here, on creation. The defaults
	// follow wrangler's: reachable on workers.dev, with version preview URLs.
	created, err := api.CreateWorker(ctx, cloudflare.WorkerInput{
		Name:      nameOrID,
		Subdomain: &cloudflare.SubdomainSettings{Enabled: true, PreviewsEnabled: true},
	})
	if err != nil {
		return nil, fmt.Errorf("failed to create Worker %q: %w", nameOrID, err)
	}
	log.Infof("Worker %s (%s) created", created.Name, created.ID)
	return &worker{ID: created.ID, Name: created.Name, created: true}, nil
}

// versionFor reuses the tag's version when its content matches, fails when it
// does not, and otherwise creates the version.
func versionFor(ctx context.Context, api API, workerID string, b *bundle.Bundle, res *Result, st *settings) (*cloudflare.Version, bool, error) {
	existing, err := api.FindVersionByTag(ctx, workerID, res.Tag)
	if err != nil {
		return nil, false, fmt.Errorf("failed to look for a version tagged %q: %w", res.Tag, err)
	}
	if existing != nil {
		full, err := api.GetVersion(ctx, workerID, existing.ID, true)
		if err != nil {
			return nil, false, fmt.Errorf("failed to read version %s to compare its content: %w", existing.ID, err)
		}
		if diff := compareVersion(full, b, st); diff != "" {
			return nil, false, fmt.Errorf("%w: version %s (#%d) has tag %q but %s. A tag names one build: rerun with an unchanged build, or set the `tag` input to a new value (for example the SHA plus the run attempt)",
				ErrTagConflict, full.ID, full.Number, res.Tag, diff)
		}
		return full, true, nil
	}
	in := cloudflare.VersionInput{
		MainModule:         b.MainModule,
		CompatibilityDate:  st.compatDate,
		CompatibilityFlags: st.compatFl,
		Annotations:        map[string]string{"workers/tag": res.Tag},
	}
	if res.Message != "" {
		in.Annotations["workers/message"] = res.Message
	}
	for _, m := range b.Modules {
		in.Modules = append(in.Modules, cloudflare.ModuleUpload{Name: m.Name, ContentType: m.ContentType, Open: m.Open})
	}
	v, err := api.CreateVersion(ctx, workerID, in)
	if err != nil {
		return nil, false, fmt.Errorf("failed to create the version: %w", err)
	}
	return v, false, nil
}

// compareVersion says how an existing version differs from this run's build,
// or "" when it is the same build.
func compareVersion(v *cloudflare.Version, b *bundle.Bundle, st *settings) string {
	entries := make([]bundle.DigestEntry, 0, len(v.Modules))
	for _, m := range v.Modules {
		entries = append(entries, bundle.DigestEntry{Name: m.Name, ContentType: m.ContentType, SHA256: sha256.Sum256(m.Content)})
	}
	switch {
	case bundle.ContentDigest(v.MainModule, entries) != b.Digest:
		return fmt.Sprintf("its modules differ from this build (%d modules there, %d here)", len(v.Modules), len(b.Modules))
	case v.CompatibilityDate != st.compatDate:
		return fmt.Sprintf("its compatibility date is %s, not %s", v.CompatibilityDate, st.compatDate)
	case !slices.Equal(sorted(v.CompatibilityFlags), sorted(st.compatFl)):
		return fmt.Sprintf("its compatibility flags are [%s], not [%s]", strings.Join(v.CompatibilityFlags, ", "), strings.Join(st.compatFl, ", "))
	}
	return ""
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// deploy sends 100% of traffic to the run's version.
func deploy(ctx context.Context, api API, name string, res *Result, log Logger) error {
	deps, err := api.ListDeployments(ctx, name)
	if err != nil {
		return fmt.Errorf("failed to read the live deployment of %s: %w", name, err)
	}
	if len(deps) > 0 {
		live := deps[0]
		if len(live.Versions) == 1 {
			res.PreviousVersionID = live.Versions[0].VersionID
		} else {
			for _, dv := range live.Versions {
				if dv.VersionID != res.VersionID && res.PreviousVersionID == "" {
					res.PreviousVersionID = dv.VersionID
				}
			}
		}
		if len(live.Versions) == 1 && live.Versions[0].VersionID == res.VersionID {
			res.Deployed, res.DeployedPercentage = true, 100
			log.Infof("Version %s already serves 100%% of %s: nothing to deploy", res.VersionID, name)
			return nil
		}
	}
	d, err := api.CreateDeployment(ctx, name, []cloudflare.DeploymentVersion{{VersionID: res.VersionID, Percentage: 100}}, res.Message, false)
	if err != nil {
		return fmt.Errorf("failed to deploy version %s to 100%%: %w", res.VersionID, err)
	}
	res.Deployed, res.DeploymentID, res.DeployedPercentage = true, d.ID, 100
	log.Infof("Deployed version %s to 100%% of %s (deployment %s)", res.VersionID, name, d.ID)
	return nil
}

// dryRun makes only read requests (when credentials are there) and reports
// what a real run would do.
func dryRun(ctx context.Context, cfg *inputs.Config, deps Deps, st *settings, b *bundle.Bundle, res *Result) error {
	if deps.API == nil {
		deps.Log.Noticef("dry run: no API credentials, so the Worker and existing versions were not looked up; nothing was written")
		return nil
	}
	w, err := deps.API.GetWorker(ctx, st.worker)
	switch {
	case err == nil:
		res.WorkerID, res.WorkerName, res.WorkerExists = w.ID, w.Name, true
	case cloudflare.IsNotFound(err):
		deps.Log.Noticef("dry run: Worker %q does not exist; a real run would %s", st.worker, map[bool]string{true: "create it", false: "fail (create-worker: false)"}[cfg.CreateWorker && !inputs.IsWorkerID(st.worker)])
		return nil
	default:
		return fmt.Errorf("failed to look up Worker %q: %w", st.worker, err)
	}
	existing, err := deps.API.FindVersionByTag(ctx, w.ID, res.Tag)
	if err != nil {
		return fmt.Errorf("failed to look for a version tagged %q: %w", res.Tag, err)
	}
	if existing == nil {
		deps.Log.Noticef("dry run: a real run would create a version tagged %q%s; nothing was written", res.Tag, map[bool]string{true: " and deploy it to 100%", false: ""}[cfg.Deploy])
		return nil
	}
	full, err := deps.API.GetVersion(ctx, w.ID, existing.ID, true)
	if err != nil {
		return fmt.Errorf("failed to read version %s: %w", existing.ID, err)
	}
	if diff := compareVersion(full, b, st); diff != "" {
		return fmt.Errorf("%w: version %s has tag %q but %s", ErrTagConflict, full.ID, res.Tag, diff)
	}
	res.VersionID, res.VersionNumber, res.VersionReused = full.ID, full.Number, true
	deps.Log.Noticef("dry run: a real run would reuse version %s (#%d); nothing was written", full.ID, full.Number)
	return nil
}

func logBundle(log Logger, res *Result) {
	log.Group(fmt.Sprintf("Bundle: %d modules, %s (%s gzip), main %s", len(res.Modules), humanBytes(res.RawBytes), humanBytes(res.GzipBytes), res.MainModule))
	for _, m := range res.Modules {
		log.Infof("  %-40s %-32s %s", m.Name, m.ContentType, humanBytes(m.Size))
	}
	log.EndGroup()
}

// humanBytes formats n bytes with a binary unit.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/assets"
	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/wrangler"
)

// projectSettings are the bindings, secrets, assets and Worker-level
// settings of a run.
type projectSettings struct {
	// bindings are the merged bindings (configuration, then the inputs
	// `bindings`, `vars` and `secrets`), sorted by name. They may hold
	// secret values: never print them, use bindingInfo.
	bindings    []bindings.Binding
	keepSecrets bool
	// assets is the manifest of the assets directory, nil without assets.
	assets *assets.Manifest
	// assetsDir is the assets directory (absolute) and assetsInput the input or
	// configuration it came from; assets is built from it after the modules are known.
	assetsDir, assetsInput string
	// assetsConfig is the version's assets.config object, nil for defaults.
	assetsConfig map[string]any
	worker       wrangler.WorkerSettings
	// version are the configuration's version-level settings.
	version wrangler.VersionSettings
	// resources are the configuration's resources without an ID, and R2
	// buckets to check, less those an input binding replaces (resources.go).
	resources []wrangler.Resource
}

// settingsScope says what resolveSettings resolves.
type settingsScope int

const (
	// forUpload resolves everything a new version needs.
	forUpload settingsScope = iota + 1
	// workerOnly resolves only the Worker's name (`version-id`: nothing is
	// uploaded).
	workerOnly
)

// resolveSettings merges inputs over the wrangler configuration. It reads
// files (configuration, assets directory) but makes no request, so every
// input or configuration error surfaces before any write. With workerOnly
// (`version-id`: nothing is uploaded) it resolves only the Worker's name: the
// compatibility date, bindings and assets belong to the version being
// uploaded, so they are neither required nor read (a promote job need not
// build its assets).
func resolveSettings(cfg *inputs.Config, deps Deps, scope settingsScope) (*settings, error) {
	upload := scope == forUpload
	st := &settings{worker: cfg.Worker, compatDate: cfg.CompatibilityDate, compatFl: cfg.CompatibilityFlags}
	st.project.keepSecrets = cfg.Project.KeepSecrets
	var wc *wrangler.Config
	loc, err := wrangler.Locate(cfg.WorkingDirectory, cfg.ConfigFile, wrangler.Reader(cfg.WorkingDirectory))
	path := loc.Path
	switch {
	case errors.Is(err, wrangler.ErrNotFound):
	case err != nil:
		return nil, &inputs.Error{Input: "config", Err: err}
	case path != "":
		wc, err = wrangler.LoadEnv(path, cfg.WranglerEnv, wrangler.Reader(cfg.WorkingDirectory))
		var envErr *wrangler.UnknownEnvError
		switch {
		case errors.As(err, &envErr):
			// The file is fine; the input names an environment it lacks.
			return nil, &inputs.Error{Input: "wrangler-env", Err: fmt.Errorf("%s: %w", filepath.Base(path), envErr)}
		case err != nil:
			return nil, &inputs.Error{Input: "config", Err: err}
		}
		file := filepath.Base(path)
		st.configPath = path
		if loc.RedirectedBy != "" {
			deps.Log.Noticef("using the configuration %s, named by %s (written by the build); set input `config` to read another", relTo(cfg.WorkingDirectory, path), relTo(cfg.WorkingDirectory, loc.RedirectedBy))
		}
		if wc.Site {
			return nil, &inputs.Error{Input: "config", Err: fmt.Errorf("%s: `site` (Workers Sites) cannot be uploaded as a version; move the files to `assets` (Workers Static Assets: https://developers.cloudflare.com/workers/static-assets/migration-guides/migrate-from-workers-sites/)", file)}
		}
		st.rules = wc.Rules
		st.uploadSourceMaps = wc.UploadSourceMaps != nil && *wc.UploadSourceMaps
		for _, w := range wc.Warnings {
			deps.Log.Warningf("%s: %s", file, w)
		}
		if len(wc.Ignored) > 0 {
			deps.Log.Noticef("%s: these keys are not applied by workers-deploy (manage them with wrangler or Terraform): %s", file, strings.Join(wc.Ignored, ", "))
		}
		if st.worker == "" {
			st.worker = wc.Name
			if st.worker != "" {
				if err := inputs.CheckWorkerName(st.worker); err != nil {
					return nil, &inputs.Error{Input: "config", Err: fmt.Errorf("%s: `name`: %w", file, err)}
				}
			}
		}
		// `main` is relative to the configuration file's folder, as in wrangler.
		if st.configMain = wc.Main; st.configMain != "" && !filepath.IsAbs(st.configMain) {
			st.configMain = filepath.Join(filepath.Dir(path), st.configMain)
		}
		if upload && st.compatDate == "" && wc.CompatibilityDate != "" {
			if err := inputs.CheckCompatibilityDate(wc.CompatibilityDate, deps.Now()); err != nil {
				return nil, &inputs.Error{Input: "config", Err: fmt.Errorf("%s: `compatibility_date`: %w", file, err)}
			}
			st.compatDate = wc.CompatibilityDate
		}
		if !cfg.CompatibilityFlagsSet {
			st.compatFl = wc.CompatibilityFlags
		}
		st.project.worker = wc.Worker
		st.build = wc.Build
		st.project.version = wc.Version
		st.previews, st.topBindings = wc.Previews, wc.Bindings
	}
	if cfg.WranglerEnv != "" && wc == nil {
		return nil, &inputs.Error{Input: "wrangler-env", Err: fmt.Errorf("environment %q needs a wrangler configuration, and none was found in %s (input `config`)", cfg.WranglerEnv, cfg.WorkingDirectory)}
	}
	if st.worker == "" {
		return nil, &inputs.Error{Input: "worker", Err: errors.New("no Worker named: set the `worker` input, or `name` in wrangler configuration")}
	}
	if !upload {
		return st, nil
	}
	if st.compatDate == "" {
		return nil, &inputs.Error{Input: "compatibility-date", Err: errors.New("no compatibility date: set the `compatibility-date` input (YYYY-MM-DD) or `compatibility_date` in wrangler configuration")}
	}
	if cfg.UploadSourceMaps != nil {
		st.uploadSourceMaps = *cfg.UploadSourceMaps
	}
	if err := st.resolveBindings(cfg, wc); err != nil {
		return nil, err
	}
	if err := st.resolveAssets(cfg, wc); err != nil {
		return nil, err
	}
	return st, nil
}

// resolveBindings merges the configuration's bindings with the inputs'.
func (st *settings) resolveBindings(cfg *inputs.Config, wc *wrangler.Config) error {
	layers := []bindings.Layer{}
	if wc != nil {
		layers = append(layers, bindings.Layer{Source: filepath.Base(wc.Path), Bindings: wc.Bindings})
	}
	layers = append(layers,
		bindings.Layer{Source: "input `bindings`", Bindings: cfg.Project.Bindings, Input: true},
		bindings.Layer{Source: "input `vars`", Bindings: cfg.Project.Vars, Input: true},
		bindings.Layer{Source: "input `secrets`", Bindings: cfg.Project.Secrets, Input: true},
	)
	merged, err := bindings.Merge(layers...)
	if err != nil {
		// Name the input whose layer brought the conflict: the first prefix
		// of the layers that fails to merge ends with it.
		names := []string{"bindings", "vars", "secrets"}
		if wc != nil {
			names = append([]string{"config"}, names...)
		}
		input := "bindings"
		for k := 1; k <= len(layers); k++ {
			if _, e := bindings.Merge(layers[:k]...); e != nil {
				input = names[k-1]
				break
			}
		}
		return &inputs.Error{Input: input, Err: err}
	}
	st.project.bindings = merged
	if wc != nil {
		inputNames := map[string]bool{}
		for _, l := range layers[len(layers)-3:] {
			for _, b := range l.Bindings {
				inputNames[b.Name] = true
			}
		}
		for _, r := range wc.Resources {
			if !inputNames[r.Binding] {
				st.project.resources = append(st.project.resources, r)
			}
		}
	}
	return nil
}

// resolveAssets builds the manifest of the assets directory: the
// `assets-directory` input (relative to the working directory) or
// `assets.directory` (relative to the configuration file, as in wrangler).
func (st *settings) resolveAssets(cfg *inputs.Config, wc *wrangler.Config) error {
	var dir, input string
	var conf *wrangler.Assets
	if wc != nil {
		conf = wc.Assets
	}
	switch {
	case cfg.Project.AssetsDirectory != "":
		dir, input = cfg.Project.AssetsDirectory, "assets-directory"
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(cfg.WorkingDirectory, dir)
		}
	case conf != nil && conf.Directory != "":
		dir, input = conf.Directory, "config"
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(filepath.Dir(wc.Path), dir)
		}
	case conf != nil:
		// wrangler refuses `assets` without a directory too: its settings would be lost.
		return &inputs.Error{Input: "config", Err: fmt.Errorf("%s: `assets` is set but `assets.directory` is not; set the directory (or the `assets-directory` input)", filepath.Base(wc.Path))}
	default:
		return nil
	}
	if err := assetsInside(assetsBoundary(cfg), dir); err != nil {
		return &inputs.Error{Input: input, Err: err}
	}
	// Checked now: the modules are collected before the manifest is built, and they
	// depend on where the assets are.
	if fi, err := os.Stat(dir); err != nil {
		return &inputs.Error{Input: input, Err: fmt.Errorf("failed to read the assets directory %q: %w", dir, err)}
	} else if !fi.IsDir() {
		return &inputs.Error{Input: input, Err: fmt.Errorf("the assets directory %q is not a directory", dir)}
	}
	st.project.assetsDir, st.project.assetsInput = filepath.Clean(dir), input
	if conf != nil {
		c := map[string]any{}
		if conf.HTMLHandling != "" {
			c["html_handling"] = conf.HTMLHandling
		}
		if conf.NotFoundHandling != "" {
			c["not_found_handling"] = conf.NotFoundHandling
		}
		if len(conf.RunWorkerFirst) > 0 {
			c["run_worker_first"] = conf.RunWorkerFirst
		}
		if len(c) > 0 {
			st.project.assetsConfig = c
		}
	}
	return nil
}

// assetExtras are the assets directory's _headers and _redirects, attached to the
// version as text modules of the same names.
func (p *projectSettings) assetExtras() []bundle.ExtraModule {
	if p.assetsDir == "" {
		return nil
	}
	var out []bundle.ExtraModule
	for _, name := range []string{assets.HeadersFile, assets.RedirectsFile} {
		f := filepath.Join(p.assetsDir, name)
		if fi, err := os.Lstat(f); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			out = append(out, bundle.ExtraModule{Name: name, Path: f})
		}
	}
	return out
}

// buildAssets builds the manifest of the assets directory once the modules are known:
// the entry's own folder (or the entry file) inside the assets directory is left out,
// since its files are modules (Astro's dist/_worker.js/ in dist/).
func (p *projectSettings) buildAssets(b *bundle.Bundle) error {
	if p.assetsDir == "" {
		return nil
	}
	var opts assets.BuildOptions
	if b.EntryPath != "" {
		entryDir := filepath.Dir(b.EntryPath)
		if rel, err := filepath.Rel(p.assetsDir, entryDir); err == nil && rel != "." && filepath.IsLocal(rel) {
			opts.Exclude = append(opts.Exclude, filepath.ToSlash(rel))
		} else if rel, err := filepath.Rel(p.assetsDir, b.EntryPath); err == nil && filepath.IsLocal(rel) {
			opts.Exclude = append(opts.Exclude, filepath.ToSlash(rel))
		}
	}
	m, err := assets.BuildWith(p.assetsDir, opts)
	if err != nil {
		return &inputs.Error{Input: p.assetsInput, Err: err}
	}
	p.assets = m
	return nil
}

// relTo shows path relative to dir when it lies inside, else as is.
func relTo(dir, path string) string {
	if rel, err := filepath.Rel(dir, path); err == nil && filepath.IsLocal(rel) {
		return filepath.ToSlash(rel)
	}
	return path
}

// assetsBoundary is the directory static assets must stay inside: the
// workspace (the checkout), so that a monorepo app may use assets built
// beside it (wrangler allows `../public`), or the working directory when that
// lies outside the workspace.
func assetsBoundary(cfg *inputs.Config) string {
	if cfg.Workspace != "" && cfg.Workspace != "." {
		if rel, err := filepath.Rel(cfg.Workspace, cfg.WorkingDirectory); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return cfg.Workspace
		}
	}
	return cfg.WorkingDirectory
}

// assetsInside refuses an assets directory outside the boundary (symlinks
// resolved): assets are published, so a configuration file must not be able
// to point them at the runner's files (/proc/self, the home directory,
// another checkout). A directory that does not exist is left to assets.Build.
func assetsInside(workDir, dir string) error {
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil
	}
	realWork, err := filepath.EvalSymlinks(workDir)
	if err != nil {
		realWork = workDir
	}
	rel, err := filepath.Rel(realWork, realDir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return fmt.Errorf("the assets directory %q is outside %q (the workspace, or the working directory when that lies outside it); its files would be published as static assets. Build the assets inside the checkout", dir, workDir)
	}
	return nil
}

// hasWorkerSettings reports whether the configuration sets Worker-level settings.
func (p *projectSettings) hasWorkerSettings() bool {
	w := p.worker
	return len(w.Observability) > 0 || w.Logpush != nil || len(w.Tags) > 0 || w.WorkersDev != nil || w.PreviewURLs != nil || len(w.TailConsumers) > 0
}

// workerInput is the Create Worker body. workers.dev and preview URLs default
// to on, as in wrangler; preview_urls defaults to workers_dev's value.
func (p *projectSettings) workerInput(name string) cloudflare.WorkerInput {
	w := p.worker
	enabled := w.WorkersDev == nil || *w.WorkersDev
	previews := enabled
	if w.PreviewURLs != nil {
		previews = *w.PreviewURLs
	}
	var tails []cloudflare.TailConsumer
	if len(w.TailConsumers) > 0 {
		var list []struct {
			Service string `json:"service"`
		}
		_ = json.Unmarshal(w.TailConsumers, &list) // checked when parsed
		for _, t := range list {
			tails = append(tails, cloudflare.TailConsumer{Name: t.Service})
		}
	}
	return cloudflare.WorkerInput{
		TailConsumers: tails,
		Name:          name,
		Subdomain:     &cloudflare.SubdomainSettings{Enabled: enabled, PreviewsEnabled: previews},
		Tags:          w.Tags,
		Logpush:       w.Logpush,
		Observability: w.Observability,
	}
}

// assetsJSON is the version's assets object for a completion token.
func (p *projectSettings) assetsJSON(jwt string) (json.RawMessage, error) {
	a := map[string]any{"jwt": jwt}
	if p.assetsConfig != nil {
		a["config"] = p.assetsConfig
	}
	return json.Marshal(a)
}

// bindingInfo lists bindings by name and type, never their values.
func bindingInfo(bs []bindings.Binding) []BindingInfo {
	out := make([]BindingInfo, 0, len(bs))
	for _, b := range bs {
		out = append(out, BindingInfo{Name: b.Name, Type: b.Type})
	}
	return out
}

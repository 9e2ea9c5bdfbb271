package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/esbundle"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// Bundled reports a bundle built in process with esbuild, for the plan and the summary.
type Bundled struct {
	// Entry is the source entry, relative to the working directory.
	Entry string
	// Reason says why bundling applied.
	Reason string
	// Main is the bundle's main module name.
	Main    string
	Summary esbundle.Summary
}

// bundlePlan is the decision to bundle the entry.
type bundlePlan struct {
	entry  string // absolute path of the entry file
	reason string // "" when not bundling
}

// entryFile is the entry as a file: the `main-module` input below the working directory, else
// `main` of the configuration (already made absolute, relative to its file's folder, as
// wrangler resolves it); "" when neither is set.
func entryFile(cfg *inputs.Config, st *settings) string {
	switch {
	case cfg.MainModule != "":
		return filepath.Join(cfg.WorkingDirectory, filepath.FromSlash(cfg.MainModule))
	case st.configMain != "" && filepath.IsAbs(st.configMain):
		return st.configMain
	case st.configMain != "":
		return filepath.Join(cfg.WorkingDirectory, filepath.FromSlash(st.configMain))
	}
	return ""
}

// bundleRoot is where packages resolve from: the configuration file's folder, else the
// working directory (esbuild also looks in the node_modules of the folders above).
func bundleRoot(cfg *inputs.Config, st *settings) string {
	if st.configPath != "" {
		return filepath.Dir(st.configPath)
	}
	return cfg.WorkingDirectory
}

// gather finds the modules to upload and applies the `bundle` input. With `auto` and no
// `modules`: a source entry (.ts, .tsx, .jsx, .mts, .cts) is bundled; a built entry is
// collected by the upload model, and bundled instead when the collection finds that it needs
// it (a static import of a package, or of a file outside the uploaded folder, found by the
// import scanner through the files that would be uploaded), or that code reachable from the
// entry tells Node.js by `process`'s type tag where workerd's own `process` would pass that
// test and wrangler's bundle would not (processPlan). `true` always bundles the entry
// (globs, if any, only add modules). `false` never bundles; the collection's error then says
// how to let the action bundle.
func gather(ctx context.Context, cfg *inputs.Config, st *settings) (*bundle.Bundle, *Bundled, error) {
	modulesSet := cfg.Modules != ""
	entry := entryFile(cfg, st)
	var plan bundlePlan
	switch {
	case cfg.Bundle == inputs.BundleAlways:
		if entry == "" {
			return nil, nil, &inputs.Error{Input: "bundle", Err: errors.New("`bundle: true` needs an entry: set `main` in the wrangler configuration or the `main-module` input")}
		}
		plan = bundlePlan{entry: entry, reason: "input `bundle` is true"}
	case cfg.Bundle == inputs.BundleAuto && !modulesSet && entry != "" && esbundle.IsSourceFile(entry) && isFile(entry):
		plan = bundlePlan{entry: entry, reason: fmt.Sprintf("the entry %s is a source file", relTo(cfg.WorkingDirectory, entry))}
	}
	var b *bundle.Bundle
	var err error
	if plan.reason != "" && !modulesSet {
		// The bundle, the modules its imports produced and the attached _headers/_redirects
		// are the whole upload.
		b, err = extrasOnly(st)
	} else {
		b, err = collect(ctx, cfg, st)
		var need *bundle.BundleNeededError
		if errors.As(err, &need) && plan.reason == "" {
			switch {
			case cfg.Bundle == inputs.BundleAuto && !modulesSet && need.Importer != "":
				what := fmt.Sprintf("the package %q", need.Specifier)
				if need.Outside {
					what = fmt.Sprintf("%q, outside the uploaded folder", need.Specifier)
				}
				plan = bundlePlan{entry: filepath.Join(cfg.WorkingDirectory, filepath.FromSlash(need.Entry)),
					reason: fmt.Sprintf("module %q imports %s", need.Importer, what)}
				b, err = extrasOnly(st)
			case cfg.Bundle == inputs.BundleNever:
				err = &inputs.Error{Input: "bundle", Err: fmt.Errorf("%w; or let the action bundle it as wrangler does: remove `bundle: false`", need)}
			case modulesSet:
				err = &inputs.Error{Input: "modules", Err: fmt.Errorf("%w; or let the action bundle it as wrangler does: remove input `modules`, or set `bundle: true`", need)}
			}
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if plan.reason == "" && b.MainModule != "" && len(b.ProcessTypeTag) > 0 && esbundle.NativeProcessReplaced(st.compatDate, st.compatFl) {
		var warning string
		plan, warning = processPlan(cfg, st, b)
		if warning != "" {
			b.Warnings = append(b.Warnings, warning)
		}
		if plan.reason != "" {
			if b, err = extrasOnly(st); err != nil {
				return nil, nil, err
			}
		}
	}
	if plan.reason == "" {
		return b, nil, nil
	}
	bd, err := bundleEntry(cfg, st, plan, b)
	if err != nil {
		return nil, nil, err
	}
	return b, bd, nil
}

// processPlan decides for a built entry whose uploaded code tells Node.js by `process`'s type
// tag while workerd would give it its own `process` and wrangler's bundle the unenv polyfill
// (esbundle.NativeProcessReplaced): with `bundle: auto` and no `modules`, the entry is bundled
// as wrangler would, so the code sees the polyfill; otherwise, or when the project has no
// @cloudflare/unenv-preset to take the polyfill from (a bundle would then keep workerd's
// `process` and change nothing), the upload stays as it is and the warning says what to do
// (docs/bundling.md).
func processPlan(cfg *inputs.Config, st *settings, b *bundle.Bundle) (bundlePlan, string) {
	mod := fmt.Sprintf("%q", b.ProcessTypeTag[0])
	if n := len(b.ProcessTypeTag) - 1; n > 0 {
		mod += fmt.Sprintf(" (and %d more)", n)
	}
	what := fmt.Sprintf("module %s tells Node.js by `process`'s type tag (\"[object process]\"), and workerd's own `process` (compatibility date %s, nodejs_compat) passes that test", mod, st.compatDate)
	const flag = "or add the compatibility flag disable_nodejs_process_v2 so workerd's `process` is not taken for Node.js's"
	switch {
	case cfg.Modules != "":
		return bundlePlan{}, fmt.Sprintf("%s where wrangler's bundle gives it unenv's polyfill: the code may take Node.js-only paths (Astro then answers \"[object Object]\"). Bundle it as wrangler does: set `bundle: true`, or remove input `modules`; %s", what, flag)
	case cfg.Bundle == inputs.BundleNever:
		return bundlePlan{}, fmt.Sprintf("%s where wrangler's bundle gives it unenv's polyfill: the code may take Node.js-only paths (Astro then answers \"[object Object]\"). Bundle it as wrangler does: remove `bundle: false` or set `bundle: true`; %s", what, flag)
	case !esbundle.UnenvPresetInstalled(bundleRoot(cfg, st)):
		return bundlePlan{}, fmt.Sprintf("%s: the code may take Node.js-only paths (Astro then answers \"[object Object]\"). Wrangler's bundle would give it unenv's polyfill, but @cloudflare/unenv-preset and unenv are not installed in the project, so the action uploads it unbundled: install them before this step (npm ci with wrangler among the devDependencies brings them, or npm install -D @cloudflare/unenv-preset unenv), %s", what, flag)
	}
	return bundlePlan{
		entry:  b.EntryPath,
		reason: fmt.Sprintf("%s; wrangler's bundle gives it unenv's polyfill instead", what),
	}, ""
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// extrasOnly is the upload before the bundle joins it: only the modules attached from the
// assets directory (_headers, _redirects), as text.
func extrasOnly(st *settings) (*bundle.Bundle, error) {
	b := &bundle.Bundle{Source: "bundled entry"}
	var mods []bundle.MemoryModule
	for _, x := range st.project.assetExtras() {
		content, err := os.ReadFile(x.Path)
		if err != nil {
			return nil, &inputs.Error{Input: "assets-directory", Err: fmt.Errorf("failed to read %s: %w", x.Path, err)}
		}
		mods = append(mods, bundle.MemoryModule{Name: x.Name, ContentType: bundle.TypeText, Content: content})
	}
	if len(mods) > 0 {
		if err := b.AddMemory("", mods, 0); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// bundleEntry bundles the planned entry and puts the result into b: the bundle becomes the
// main module, with the modules its imports produced; the digest and the size limit are
// computed over the whole result.
func bundleEntry(cfg *inputs.Config, st *settings, plan bundlePlan, b *bundle.Bundle) (*Bundled, error) {
	dir := bundleRoot(cfg, st)
	opts := esbundle.Options{
		Entry:              plan.entry,
		ProjectDir:         dir,
		CompatibilityDate:  st.compatDate,
		CompatibilityFlags: st.compatFl,
		Define:             st.build.Define,
		Alias:              st.build.Alias,
		KeepNames:          true, // wrangler's default
		Tsconfig:           st.build.Tsconfig,
		SourceMap:          st.uploadSourceMaps,
	}
	if st.build.Minify != nil {
		opts.Minify = *st.build.Minify
	}
	if st.build.KeepNames != nil {
		opts.KeepNames = *st.build.KeepNames
	}
	if opts.Tsconfig != "" && !filepath.IsAbs(opts.Tsconfig) {
		opts.Tsconfig = filepath.Join(dir, filepath.FromSlash(opts.Tsconfig))
	}
	r, err := esbundle.Bundle(opts)
	if err != nil {
		var be *esbundle.Error
		if errors.As(err, &be) {
			return nil, &inputs.Error{Input: "bundle", Err: fmt.Errorf("%w; fix the import, or install the project's dependencies (npm ci) before this step", err)}
		}
		return nil, err
	}
	mods := make([]bundle.MemoryModule, len(r.Modules))
	for i, m := range r.Modules {
		mods[i] = bundle.MemoryModule{Name: m.Name, ContentType: m.ContentType, Content: m.Content}
		if m.Name == r.Main && keepsNativeProcess(st, dir, m.Content) {
			r.Summary.Warnings = append(r.Summary.Warnings, "the bundle tells Node.js by `process`'s type tag (\"[object process]\"), and workerd's own `process` passes that test: wrangler's bundle would give it unenv's polyfill, but @cloudflare/unenv-preset and unenv are not installed in the project, so the code may take Node.js-only paths (Astro then answers \"[object Object]\"). Install them before this step (npm ci with wrangler among the devDependencies brings them), or add the compatibility flag disable_nodejs_process_v2")
		}
	}
	if err := b.AddMemory(r.Main, mods, 0); err != nil {
		return nil, err
	}
	b.EntryPath = plan.entry
	return &Bundled{Entry: relTo(cfg.WorkingDirectory, plan.entry), Reason: plan.reason, Main: r.Main, Summary: r.Summary}, nil
}

// keepsNativeProcess reports a bundle whose code tests `process`'s type tag while workerd
// gives the Worker its own `process` and the project has no unenv preset, so that the bundle
// could not swap in the polyfill that wrangler's would (docs/bundling.md).
func keepsNativeProcess(st *settings, dir string, code []byte) bool {
	return esbundle.NativeProcessReplaced(st.compatDate, st.compatFl) && bytes.Contains(code, []byte("[object process]")) &&
		!esbundle.UnenvPresetInstalled(dir)
}

// logBundled prints what was bundled and why.
func logBundled(log Logger, bd *Bundled) {
	s := bd.Summary
	log.Infof("Bundled %s with esbuild into %s because %s: %d input files in %s", bd.Entry, bd.Main, bd.Reason, s.Inputs, s.Duration.Round(1e5))
	if len(s.Packages) > 0 {
		log.Infof("  packages: %s", strings.Join(s.Packages, ", "))
	}
	if len(s.External) > 0 {
		log.Infof("  left to the runtime: %s", strings.Join(s.External, ", "))
	}
	if len(s.Polyfilled) > 0 {
		log.Infof("  polyfilled with unenv: %s", strings.Join(s.Polyfilled, ", "))
	}
	for _, w := range s.Warnings {
		log.Warningf("bundling %s: %s", bd.Entry, w)
	}
}

// nodeCompatOn says whether the Worker has Node.js compatibility (v1 or v2), from the
// compatibility flags or, from 2026-08-04, the date alone (docs/bundling.md): uploaded modules
// may then import Node.js built-ins without the node: prefix.
func nodeCompatOn(date string, flags []string) bool {
	m := esbundle.ModeFor(date, flags)
	return m == esbundle.NodeCompatV1 || m == esbundle.NodeCompatV2
}

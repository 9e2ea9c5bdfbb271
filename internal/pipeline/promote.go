package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

const (
	// promotePerPage is the page size used to list versions for `version-id`.
	promotePerPage = 100
	// promoteMaxPages bounds the listing (the loop also stops on a server that
	// ignores `page`). Only the last 100 versions can be deployed
	// (docs/workers-api.md §7.1), but the largest per_page is undocumented, so
	// the listing cannot stop after one page.
	promoteMaxPages = 20
	// minPrefix is the shortest ID prefix `version-id` accepts, as Cloudflare's
	// own version-prefix lookups do.
	minPrefix = 8
)

var (
	uuidRe   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	prefixRe = regexp.MustCompile(`^[0-9a-f-]+$`)
)

// promote deploys an existing version, named by `version-id`, through the
// stages: nothing is uploaded, so no bundle or compatibility date is needed.
func promote(ctx context.Context, cfg *inputs.Config, deps Deps, res *Result) error {
	ref := cfg.Rollout.VersionID
	st, err := resolveSettings(cfg, deps, workerOnly)
	if err != nil {
		return err
	}
	res.WorkerName, res.ConfigFile = st.worker, st.configPath
	if deps.API == nil {
		deps.Log.Noticef("dry run: would promote version %q of Worker %s (no credentials, nothing looked up)", ref, st.worker)
		return nil
	}
	w, err := deps.API.GetWorker(ctx, st.worker)
	if err != nil {
		if cloudflare.IsNotFound(err) {
			return &inputs.Error{Input: "worker", Err: fmt.Errorf("%w: Worker %q is not in this account, so version %q cannot be promoted; check `worker` and `account-id`", ErrWorkerNotFound, st.worker, ref)}
		}
		return fmt.Errorf("failed to look up Worker %q: %w", st.worker, err)
	}
	res.WorkerID, res.WorkerName, res.WorkerExists = w.ID, w.Name, true
	v, err := resolveVersionRef(ctx, deps.API, w.ID, w.Name, ref)
	if err != nil {
		return err
	}
	res.VersionID, res.VersionNumber, res.VersionReused = v.ID, v.Number, true
	res.Tag, res.Message = v.Tag(), v.Annotations[cloudflare.AnnotationMessage]
	if cfg.Message != "" {
		res.Message = cfg.Message
	}
	res.CompatibilityDate, res.CompatibilityFlags, res.MainModule = v.CompatibilityDate, v.CompatibilityFlags, v.MainModule
	if len(v.URLs) > 0 {
		res.PreviewURL = v.URLs[0]
	}
	deps.Log.Infof("Promoting version %s (#%d, tag %q) of %s: `version-id` %q; nothing is uploaded", v.ID, v.Number, res.Tag, w.Name, ref)
	deps.Observer.VersionReady(res)
	if cfg.DryRun {
		deps.Log.Noticef("dry run: would deploy version %s by stages %q", v.ID, cfg.Rollout.StagesInput)
		return nil
	}
	return deploy(ctx, cfg, deps, w.Name, res)
}

// resolveVersionRef finds the one version that ref names: its full ID, an ID
// prefix of at least 8 characters, or its tag. Ambiguous and unknown
// references are input errors; nothing is written either way.
func resolveVersionRef(ctx context.Context, api API, workerID, workerName, ref string) (*cloudflare.Version, error) {
	lower := strings.ToLower(ref)
	var all []cloudflare.Version
	prevFirst := ""
	for page := 1; page <= promoteMaxPages; page++ {
		vs, err := api.ListVersions(ctx, workerID, page, promotePerPage)
		if err != nil {
			return nil, fmt.Errorf("failed to list the versions of %s to find `version-id` %q: %w", workerName, ref, err)
		}
		if len(vs) == 0 || vs[0].ID == prevFirst {
			break
		}
		prevFirst = vs[0].ID
		all = append(all, vs...)
	}
	var matches []cloudflare.Version
	seen := map[string]bool{}
	add := func(v cloudflare.Version) {
		if !seen[v.ID] {
			seen[v.ID] = true
			matches = append(matches, v)
		}
	}
	for _, v := range all {
		if strings.EqualFold(v.ID, ref) {
			return &v, nil
		}
	}
	isPrefix := len(lower) >= minPrefix && prefixRe.MatchString(lower)
	for _, v := range all {
		if isPrefix && strings.HasPrefix(strings.ToLower(v.ID), lower) {
			add(v)
		}
		if v.Tag() == ref {
			add(v)
		}
	}
	switch len(matches) {
	case 1:
		return &matches[0], nil
	case 0:
		if uuidRe.MatchString(lower) {
			// Older than the listed versions: ask for it directly.
			v, err := api.GetVersion(ctx, workerID, lower, false)
			if err == nil {
				return v, nil
			}
			if !cloudflare.IsNotFound(err) {
				return nil, fmt.Errorf("failed to look up `version-id` %q: %w", ref, err)
			}
		}
		hint := ""
		if prefixRe.MatchString(lower) && len(lower) < minPrefix {
			hint = fmt.Sprintf(" (an ID prefix needs at least %d characters)", minPrefix)
		}
		return nil, &inputs.Error{Input: "version-id", Err: fmt.Errorf("%q matches no version of Worker %s by ID, ID prefix or tag%s; `wrangler versions list` shows them", ref, workerName, hint)}
	}
	parts := make([]string, 0, len(matches))
	for _, v := range matches {
		parts = append(parts, fmt.Sprintf("%s (#%d, tag %q)", v.ID, v.Number, v.Tag()))
	}
	return nil, &inputs.Error{Input: "version-id", Err: fmt.Errorf("%q is ambiguous: it matches %d versions of Worker %s: %s; give the full version ID", ref, len(matches), workerName, strings.Join(parts, ", "))}
}

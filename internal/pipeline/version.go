package pipeline

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/assets"
	"github.com/workers-deploy/workers-deploy/internal/bindings"
	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

// reusable returns the version tagged res.Tag when it holds this build, nil
// when no version has the tag, and an ErrTagConflict error when the tagged
// version holds another build. When several versions carry the tag
// (concurrent runs of one commit) the oldest is the one. It only reads (the
// dry run uses it too). highest is the Worker's newest version number seen.
func reusable(ctx context.Context, api API, workerID string, b *bundle.Bundle, res *Result, st *settings) (v *cloudflare.Version, highest int, err error) {
	found, err := api.FindVersionsByTag(ctx, workerID, res.Tag)
	if err != nil {
		return nil, 0, fmt.Errorf("failed to look for a version tagged %q: %w", res.Tag, err)
	}
	st.live.remember(found.Seen)
	if len(found.Versions) == 0 {
		return nil, found.Highest, nil
	}
	full, err := sameBuild(ctx, api, workerID, found.Versions[0].ID, b, res, st)
	return full, found.Highest, err
}

// sameBuild reads version id with its modules and returns it when it holds
// this build, else an ErrTagConflict error.
func sameBuild(ctx context.Context, api API, workerID, id string, b *bundle.Bundle, res *Result, st *settings) (*cloudflare.Version, error) {
	full, err := api.GetVersion(ctx, workerID, id, true)
	if err != nil {
		return nil, fmt.Errorf("failed to read version %s to compare its content: %w", id, err)
	}
	if diff := compareVersion(full, b, st); diff != "" {
		return nil, fmt.Errorf("%w: version %s (#%d) has tag %q but %s. A tag names one build: rerun with an unchanged build, or set the `tag` input to a new value (for example the SHA plus the run attempt)",
			ErrTagConflict, full.ID, full.Number, res.Tag, diff)
	}
	return full, nil
}

// versionFor reuses the tag's version when its content matches, fails when it
// does not, and otherwise creates the version.
func versionFor(ctx context.Context, api API, workerID string, b *bundle.Bundle, res *Result, st *settings, log Logger) (*cloudflare.Version, bool, error) {
	v, highest, err := reusable(ctx, api, workerID, b, res, st)
	if err != nil || v != nil {
		return v, v != nil, err
	}
	if v, err = createVersion(ctx, api, workerID, b, res, st); err != nil {
		return nil, false, err
	}
	return olderTwin(ctx, api, workerID, v, highest, b, res, st, log)
}

// olderTwin handles concurrent runs of one commit, which both find no
// version with the tag and both upload one. Version numbers count up per
// Worker: when the new version's number is right after the highest one seen
// by the tag lookup, nothing was uploaded in between and v is the only
// version with the tag that this run can race with. Otherwise the tag is
// looked up again and, when an older version carries it, that one is used and
// v (the younger) is never deployed; a version cannot be deleted.
func olderTwin(ctx context.Context, api API, workerID string, v *cloudflare.Version, highest int, b *bundle.Bundle, res *Result, st *settings, log Logger) (*cloudflare.Version, bool, error) {
	if v.Number <= 0 || v.Number == highest+1 {
		return v, false, nil
	}
	again, err := api.FindVersionsByTag(ctx, workerID, res.Tag)
	if err != nil {
		return nil, false, fmt.Errorf("failed to check for another version tagged %q uploaded at the same time as version %s (#%d): %w. Rerun: the rerun uses the oldest version with the tag", res.Tag, v.ID, v.Number, err)
	}
	if len(again.Versions) < 2 || again.Versions[0].ID == v.ID || again.Versions[0].Number > v.Number {
		return v, false, nil
	}
	older := again.Versions[0]
	log.Warningf("%d versions carry tag %q: another run of this commit uploaded version %s (#%d) before this run's %s (#%d). Using the older one, %s; version %s is never deployed (a version cannot be deleted)",
		len(again.Versions), res.Tag, older.ID, older.Number, v.ID, v.Number, older.ID, v.ID)
	full, err := sameBuild(ctx, api, workerID, older.ID, b, res, st)
	if err != nil {
		return nil, false, err
	}
	return full, true, nil
}

// createVersion uploads this build as a new version.
func createVersion(ctx context.Context, api API, workerID string, b *bundle.Bundle, res *Result, st *settings) (*cloudflare.Version, error) {
	// A build still writing dist/ is stopped before any write (stat only).
	if err := b.Verify(); err != nil {
		return nil, err
	}
	in := cloudflare.VersionInput{
		MainModule:         b.MainModule,
		CompatibilityDate:  st.compatDate,
		CompatibilityFlags: st.compatFl,
		Annotations:        map[string]string{cloudflare.AnnotationTag: res.Tag},
		Migrations:         st.migrations,
		Placement:          st.project.version.Placement,
		Limits:             st.project.version.Limits,
		CacheOptions:       st.project.version.CacheOptions,
	}
	all := st.project.bindings
	if st.project.keepSecrets && !res.WorkerCreated {
		kept, err := carriedSecrets(ctx, api, st.live, res.WorkerName, workerID, all)
		if err != nil {
			return nil, err
		}
		all = append(slices.Clone(all), kept...)
	}
	in.Bindings = bindings.Raw(all)
	res.Bindings = bindingInfo(all)
	st.sent = all
	if m := st.project.assets; m != nil {
		up, err := assets.Upload(ctx, api, res.WorkerName, m, assets.DefaultConcurrency)
		if err != nil {
			return nil, fmt.Errorf("failed to upload the static assets of %s: %w", m.Dir, err)
		}
		res.AssetsUploaded = up.Uploaded
		if res.Assets != nil {
			res.Assets.Uploaded = up.Uploaded
		}
		if in.Assets, err = st.project.assetsJSON(up.CompletionJWT); err != nil {
			return nil, err
		}
		// The asset upload took time: check the modules again before sending them.
		if err := b.Verify(); err != nil {
			return nil, err
		}
	}
	if res.Message != "" {
		in.Annotations[cloudflare.AnnotationMessage] = res.Message
	}
	for _, m := range b.Modules {
		in.Modules = append(in.Modules, cloudflare.ModuleUpload{Name: m.Name, ContentType: m.ContentType, Open: m.Open})
	}
	v, err := api.CreateVersion(ctx, workerID, in)
	if err != nil {
		return nil, fmt.Errorf("failed to create the version: %w", err)
	}
	return v, nil
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
	return compareBindings(v.Bindings, st.project.bindings, st.project.keepSecrets)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// BindingInfo describes one binding of the version by name and type (never
// its value), for reports. Type is "inherit" for a secret carried from the
// live version by keep-secrets.
type BindingInfo struct{ Name, Type string }

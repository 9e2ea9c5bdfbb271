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
// version holds another build. It only reads (the dry run uses it too).
func reusable(ctx context.Context, api API, workerID string, b *bundle.Bundle, res *Result, st *settings) (*cloudflare.Version, error) {
	existing, err := api.FindVersionByTag(ctx, workerID, res.Tag)
	if err != nil {
		return nil, fmt.Errorf("failed to look for a version tagged %q: %w", res.Tag, err)
	}
	if existing == nil {
		return nil, nil
	}
	full, err := api.GetVersion(ctx, workerID, existing.ID, true)
	if err != nil {
		return nil, fmt.Errorf("failed to read version %s to compare its content: %w", existing.ID, err)
	}
	if diff := compareVersion(full, b, st); diff != "" {
		return nil, fmt.Errorf("%w: version %s (#%d) has tag %q but %s. A tag names one build: rerun with an unchanged build, or set the `tag` input to a new value (for example the SHA plus the run attempt)",
			ErrTagConflict, full.ID, full.Number, res.Tag, diff)
	}
	return full, nil
}

// versionFor reuses the tag's version when its content matches, fails when it
// does not, and otherwise creates the version.
func versionFor(ctx context.Context, api API, workerID string, b *bundle.Bundle, res *Result, st *settings) (*cloudflare.Version, bool, error) {
	if v, err := reusable(ctx, api, workerID, b, res, st); err != nil || v != nil {
		return v, v != nil, err
	}
	// A build still writing dist/ is stopped before any write (stat only).
	if err := b.Verify(); err != nil {
		return nil, false, err
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
			return nil, false, err
		}
		all = append(slices.Clone(all), kept...)
	}
	in.Bindings = bindings.Raw(all)
	res.Bindings = bindingInfo(all)
	if m := st.project.assets; m != nil {
		up, err := assets.Upload(ctx, api, res.WorkerName, m, assets.DefaultConcurrency)
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
		// The asset upload took time: check the modules again before sending them.
		if err := b.Verify(); err != nil {
			return nil, false, err
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

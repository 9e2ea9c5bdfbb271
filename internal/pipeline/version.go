package pipeline

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
)

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

// BindingInfo describes one binding of the version by name and type (never
// its value), for reports. Filled by the configuration feature (issue 5).
type BindingInfo struct{ Name, Type string }

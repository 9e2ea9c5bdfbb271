package pipeline

import (
	"fmt"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/assets"
	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// AssetsReport describes the static assets of a run, for the log, the plan and the summary.
type AssetsReport struct {
	// Directory is the assets directory, relative to the working directory when inside it.
	Directory string
	// Files and Bytes are what the manifest holds (found, after what was left out).
	Files int
	Bytes int64
	// Ignored counts files left out by .assetsignore.
	Ignored int
	// Modules counts files of the assets directory that are the Worker's modules (the
	// entry's own folder) and therefore not assets.
	Modules int
	// Attached lists _headers and _redirects, attached as modules.
	Attached []string
	// Uploaded counts the files this run sent (the others were already stored); -1 until
	// the upload ran (a dry run never uploads).
	Uploaded int
}

func assetsReport(cfg *inputs.Config, m *assets.Manifest) *AssetsReport {
	if m == nil {
		return nil
	}
	r := &AssetsReport{Directory: relTo(cfg.WorkingDirectory, m.Dir), Files: len(m.Files), Bytes: m.Bytes(), Ignored: m.Ignored, Modules: m.Excluded, Uploaded: -1}
	if m.Headers != "" {
		r.Attached = append(r.Attached, assets.HeadersFile)
	}
	if m.Redirects != "" {
		r.Attached = append(r.Attached, assets.RedirectsFile)
	}
	return r
}

// String is the one-line description used in the log and the plan.
func (r *AssetsReport) String() string {
	parts := []string{fmt.Sprintf("%d files, %s, found in %s/", r.Files, bundle.HumanBytes(r.Bytes), r.Directory)}
	if r.Uploaded >= 0 {
		parts = append(parts, fmt.Sprintf("%d uploaded (the others were already stored)", r.Uploaded))
	}
	if r.Ignored > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped by %s", r.Ignored, assets.IgnoreFile))
	}
	if r.Modules > 0 {
		parts = append(parts, fmt.Sprintf("%d in the entry's folder uploaded as modules instead", r.Modules))
	}
	if len(r.Attached) > 0 {
		parts = append(parts, strings.Join(r.Attached, " and ")+" attached as modules")
	}
	return strings.Join(parts, "; ")
}

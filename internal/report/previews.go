package report

import (
	"fmt"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// maxEarlier bounds the earlier deployments listed for a Preview.
const maxEarlier = 10

// previewRows adds the rows of a previews-mode run: the Preview, this commit's
// deployment URL and the Preview's earlier deployments, newest first.
func previewRows(p *pipeline.PreviewInfo, row func(k, v string)) {
	name := fmt.Sprintf("`%s`", code(p.Name))
	if p.ID != "" {
		name += fmt.Sprintf(" (`%s`)", code(p.ID))
	}
	if p.Created {
		name += ", created by this run"
	}
	row("Worker Preview", name)
	if p.DeploymentID != "" {
		commit := fmt.Sprintf("deployment #%d (`%s`)", p.DeploymentNumber, code(p.DeploymentID))
		if p.DeploymentURL != "" {
			commit = fmt.Sprintf("<%s>, %s", urlText(p.DeploymentURL), commit)
		}
		if p.Reused {
			commit += ", reused: same commit and content"
		}
		row("This commit", commit)
	}
	var earlier []string
	for i, e := range p.Earlier {
		if i == maxEarlier {
			break
		}
		s := fmt.Sprintf("#%d", e.Number)
		if sha := e.CommitSHA; sha != "" {
			s += fmt.Sprintf(" `%s`", code(sha[:min(len(sha), 7)]))
		}
		if e.URL != "" {
			s += fmt.Sprintf(" <%s>", urlText(e.URL))
		}
		earlier = append(earlier, s)
	}
	if len(earlier) > 0 {
		row("Earlier deployments", strings.Join(earlier, "<br>"))
	}
}

// previewDeploymentState is the Deployment row of a previews-mode run.
func previewDeploymentState(r *pipeline.Result) string {
	if r.Preview == nil || r.VersionID != "" || r.DryRun {
		return ""
	}
	return "Preview only: production traffic is unchanged"
}

// previewSkipNote completes the note of a closed pull request.
func previewSkipNote(r *pipeline.Result) string {
	p := r.Preview
	switch {
	case p == nil:
		return ""
	case r.DryRun:
		return fmt.Sprintf("; its Preview `%s` would be deleted (dry run).", code(p.Name))
	case p.Deleted:
		return fmt.Sprintf("; its Preview `%s` was deleted.", code(p.Name))
	}
	return fmt.Sprintf("; it had no Preview `%s` to delete.", code(p.Name))
}

// ClosedNote is the short report that replaces the sticky comment once a
// closed pull request's Preview was deleted: the URLs the comment showed no
// longer serve, so none is repeated. runURL links to the run ("" for none).
func ClosedNote(r *pipeline.Result, number int, runURL string) string {
	title := r.WorkerName
	if title == "" {
		title = r.WorkerID
	}
	name := ""
	if r.Preview != nil {
		name = r.Preview.Name
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### workers-deploy: `%s`\n\n", code(title))
	fmt.Fprintf(&b, "Pull request #%d was closed and its Preview `%s` deleted: the Preview URL and the deployment URLs shown here before no longer serve.\n", number, code(name))
	if runURL != "" {
		fmt.Fprintf(&b, "\n[logs](%s)\n", urlText(runURL))
	}
	return b.String()
}

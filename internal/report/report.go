package report

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// Output is one step output.
type Output struct{ Name, Value string }

// Outputs lists the step outputs of product.md for a result, in a fixed order.
// Outputs of later features (rollouts, comments) are written empty for now so
// that `steps.x.outputs.y` is always defined.
func Outputs(r *pipeline.Result) []Output {
	pct := ""
	if r.VersionID != "" && !r.DryRun {
		pct = "0"
		if r.Deployed {
			pct = strconv.FormatFloat(r.DeployedPercentage, 'f', -1, 64)
		}
	}
	return []Output{
		{"worker-id", r.WorkerID},
		{"worker-name", r.WorkerName},
		{"version-id", r.VersionID},
		{"version-number", intOrEmpty(r.VersionNumber)},
		{"version-reused", strconv.FormatBool(r.VersionReused)},
		{"preview-url", r.PreviewURL},
		{"deployment-id", r.DeploymentID},
		{"deployed-percentage", pct},
		{"previous-version-id", r.PreviousVersionID},
		{"rolled-back", strconv.FormatBool(r.RolledBack)},
		{"comment-url", r.CommentURL},
	}
}

func intOrEmpty(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Summary renders the job summary in GitHub-flavoured Markdown. runURL may be "".
func Summary(r *pipeline.Result, runURL string) string {
	var b strings.Builder
	title := r.WorkerName
	if title == "" {
		title = r.WorkerID
	}
	if r.Skipped != "" {
		fmt.Fprintf(&b, "### workers-deploy\n\n%s\n", escape(r.Skipped))
		return b.String()
	}
	mode := ""
	if r.DryRun {
		mode = " (dry run)"
	}
	fmt.Fprintf(&b, "### workers-deploy: `%s`%s\n\n", code(title), mode)
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, v)
		}
	}
	worker := ""
	if r.WorkerID != "" {
		worker = fmt.Sprintf("`%s` (`%s`)", code(r.WorkerName), r.WorkerID)
		if r.WorkerCreated {
			worker += ", created by this run"
		}
	} else if r.DryRun {
		worker = fmt.Sprintf("`%s` (not looked up)", code(title))
	}
	row("Worker", worker)
	switch {
	case r.VersionID != "" && r.VersionReused:
		row("Version", fmt.Sprintf("`%s` (#%d), reused: same tag and content", r.VersionID, r.VersionNumber))
	case r.VersionID != "":
		row("Version", fmt.Sprintf("`%s` (#%d)", r.VersionID, r.VersionNumber))
	case r.DryRun:
		row("Version", "none written (dry run)")
	}
	row("Tag", "`"+code(r.Tag)+"`")
	row("Message", escape(r.Message))
	if r.PreviewURL != "" {
		row("Preview", fmt.Sprintf("<%s>", r.PreviewURL))
	}
	row("Compatibility", strings.TrimSpace(r.CompatibilityDate+" "+flags(r.CompatibilityFlags)))
	switch {
	case r.Deployed && r.DeploymentID != "":
		row("Deployment", fmt.Sprintf("100%% to this version (`%s`)%s", r.DeploymentID, previous(r)))
	case r.Deployed:
		row("Deployment", "already serving 100%: nothing to deploy")
	case r.VersionID != "" && !r.DryRun:
		row("Deployment", "none: the version serves no traffic (set `deploy: true` to deploy)")
	}
	if runURL != "" {
		row("Run", fmt.Sprintf("[logs](%s)", runURL))
	}
	b.WriteString(StageTable(r.Stages))
	fmt.Fprintf(&b, "\n<details><summary>%d modules, %s (%s gzip), main <code>%s</code></summary>\n\n",
		len(r.Modules), humanBytes(r.RawBytes), humanBytes(r.GzipBytes), htmlEscape(r.MainModule))
	b.WriteString("| Module | Type | Size |\n|---|---|---:|\n")
	const maxRows = 200 // keeps the summary far below GitHub's 1 MiB per step
	for i, m := range r.Modules {
		if i == maxRows {
			fmt.Fprintf(&b, "| … %d more | | |\n", len(r.Modules)-maxRows)
			break
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", code(m.Name), m.ContentType, humanBytes(m.Size))
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

func previous(r *pipeline.Result) string {
	if r.PreviousVersionID == "" || r.PreviousVersionID == r.VersionID {
		return ""
	}
	return fmt.Sprintf("; before: `%s`", r.PreviousVersionID)
}

func flags(f []string) string {
	if len(f) == 0 {
		return ""
	}
	return "(" + escape(strings.Join(f, ", ")) + ")"
}

// EscapeText makes untrusted one-line text safe in Markdown.
func EscapeText(s string) string { return escape(s) }

// escape makes untrusted one-line text safe in a Markdown table cell: no HTML,
// no table breaks, no @-mentions, no links or images.
func escape(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := strings.NewReplacer(
		"&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "\\|", "`", "\\`", "*", "\\*", "_", "\\_",
		"[", "\\[", "]", "\\]", "!", "\\!", "#", "\\#",
		"@", "@\u200b", // a zero-width space after @ stops a mention
	)
	return r.Replace(s)
}

// code makes text safe inside a Markdown code span in a table.
func code(s string) string {
	return strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ").Replace(s)
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;").Replace(s)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.2f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Advice turns a failed run's error into one message: the cause, and what to
// do about it. It never contains a token (errors are built without them).
func Advice(err error) string {
	msg := err.Error()
	var apiErr *cloudflare.APIError
	switch {
	case errors.Is(err, context.Canceled):
		return "the run was cancelled before it finished: " + msg
	case errors.As(err, &apiErr):
		switch {
		case apiErr.Status == 401 || apiErr.HasCode(10000) || apiErr.HasCode(9109):
			return msg + ". Cloudflare did not accept the API token: check that `api-token` is current and has the permission Workers Scripts: Edit on account `account-id`"
		case apiErr.Status == 403:
			return msg + ". The API token lacks a permission for this call: it needs Workers Scripts: Edit on this account"
		case apiErr.HasCode(10021):
			return msg + ". Cloudflare rejected the version (a syntax error, a missing export, a bad binding, or startup limits): check the modules and `main-module`"
		case apiErr.HasCode(10027):
			return msg + ". The bundle is over the account's size limit (free plan 3 MB, paid 10 MB compressed)"
		case apiErr.Status == 429:
			return msg + ". Cloudflare's rate limit held for the whole retry budget: wait a few minutes and rerun"
		case apiErr.Status >= 500:
			return msg + ". Cloudflare's API kept failing for the whole retry budget: rerun the job later; https://www.cloudflarestatus.com shows incidents"
		}
	}
	var inErr *inputs.Error
	var bErr *bundle.InputError
	switch {
	case errors.As(err, &inErr), errors.As(err, &bErr):
		return msg
	}
	return msg
}

package report

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/cloudflare"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// Output is one step output.
type Output struct{ Name, Value string }

// Outputs lists the step outputs of action.yml for a result, in a fixed order.
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
		{"commit-url", r.CommitURL},
		{"preview-id", previewField(r, func(p *pipeline.PreviewInfo) string { return p.ID })},
		{"preview-deployment-id", previewField(r, func(p *pipeline.PreviewInfo) string { return p.DeploymentID })},
	}
}

func previewField(r *pipeline.Result, f func(*pipeline.PreviewInfo) string) string {
	if r.Preview == nil {
		return ""
	}
	return f(r.Preview)
}

func intOrEmpty(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// Summary renders the job summary in GitHub-flavoured Markdown. runURL may be "".
// The sticky PR comment renders the same content (Render), so that the summary
// is the place to look when a comment could not be written.
func Summary(r *pipeline.Result, runURL string) string {
	return Render(r, Details{RunURL: runURL})
}

// DefaultMaxRows caps the modules and bindings tables of the job summary,
// which keeps it far below GitHub's 1 MiB per step.
const DefaultMaxRows = 200

// Details are the parts of a report that do not come from the pipeline.
type Details struct {
	// RunURL links to the workflow run; "" outside Actions.
	RunURL string
	// Failure is the advice for a failed run, shown last; "" on success.
	Failure string
	// MaxRows caps the modules and bindings tables each (0: DefaultMaxRows);
	// the rows left out are counted in a last row.
	MaxRows int
}

// Render renders a run's report in GitHub-flavoured Markdown: Worker, version,
// tag and message, preview URL, deployment state, run link, stage table,
// bindings by name and type (never values) and modules. Untrusted text
// (messages, module names) is escaped: it cannot inject HTML or Markdown,
// break a table, or @-mention anyone.
func Render(r *pipeline.Result, d Details) string {
	var b strings.Builder
	title := r.WorkerName
	if title == "" {
		title = r.WorkerID
	}
	if r.Skipped != "" {
		fmt.Fprintf(&b, "### workers-deploy\n\n%s%s\n", escape(r.Skipped), previewSkipNote(r))
		return b.String()
	}
	maxRows := d.MaxRows
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
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
		worker = fmt.Sprintf("`%s` (`%s`)", code(r.WorkerName), code(r.WorkerID))
		if r.WorkerCreated {
			worker += ", created by this run"
		}
	} else if r.DryRun {
		worker = fmt.Sprintf("`%s` (not looked up)", code(title))
	}
	row("Worker", worker)
	switch {
	case r.VersionID != "" && r.VersionReused:
		row("Version", fmt.Sprintf("`%s` (#%d), reused: same tag and content", code(r.VersionID), r.VersionNumber))
	case r.VersionID != "":
		row("Version", fmt.Sprintf("`%s` (#%d)", code(r.VersionID), r.VersionNumber))
	case r.DryRun:
		row("Version", "none written (dry run)")
	}
	if r.Tag != "" {
		row("Tag", "`"+code(r.Tag)+"`")
	}
	row("Message", escape(r.Message))
	if r.PreviewURL != "" {
		row("Preview", fmt.Sprintf("<%s>", urlText(r.PreviewURL)))
	}
	if r.Preview != nil {
		previewRows(r.Preview, row)
	}
	row("Compatibility", strings.TrimSpace(escape(r.CompatibilityDate)+" "+flags(r.CompatibilityFlags)))
	row("Deployment", deploymentState(r)+previewDeploymentState(r))
	if r.Assets != nil {
		row("Assets", escape(r.Assets.String()))
	}
	if d.RunURL != "" {
		row("Run", fmt.Sprintf("[logs](%s)", urlText(d.RunURL)))
	}
	b.WriteString(StageTable(r.Stages))
	b.WriteString(ChangeSummary(r.Changes, maxRows))
	if len(r.Bindings) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>%d bindings</summary>\n\n", len(r.Bindings))
		b.WriteString("| Binding | Type |\n|---|---|\n")
		for i, bi := range r.Bindings {
			if i == maxRows {
				fmt.Fprintf(&b, "| … %d more (cut to keep the report short) | |\n", len(r.Bindings)-maxRows)
				break
			}
			fmt.Fprintf(&b, "| `%s` | `%s` |\n", code(bi.Name), code(bi.Type))
		}
		b.WriteString("\n</details>\n")
	}
	if bd := r.Bundled; bd != nil {
		fmt.Fprintf(&b, "\nBundled `%s` into `%s` with esbuild (%s): %d input files", code(bd.Entry), code(bd.Main), escape(bd.Reason), bd.Summary.Inputs)
		if len(bd.Summary.Packages) > 0 {
			fmt.Fprintf(&b, "; packages: %s", escape(strings.Join(bd.Summary.Packages, ", ")))
		}
		if len(bd.Summary.Polyfilled) > 0 {
			fmt.Fprintf(&b, "; polyfilled with unenv: %s", escape(strings.Join(bd.Summary.Polyfilled, ", ")))
		}
		b.WriteString(".\n")
	}
	if len(r.Modules) > 0 || r.MainModule != "" {
		fmt.Fprintf(&b, "\n<details><summary>%d modules, %s (%s gzip), main <code>%s</code></summary>\n\n",
			len(r.Modules), bundle.HumanBytes(r.RawBytes), bundle.HumanBytes(r.GzipBytes), htmlEscape(r.MainModule))
		b.WriteString("| Module | Type | Size |\n|---|---|---:|\n")
		for i, m := range r.Modules {
			if i == maxRows {
				fmt.Fprintf(&b, "| … %d more (cut to keep the report short) | | |\n", len(r.Modules)-maxRows)
				break
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", code(m.Name), escape(m.ContentType), bundle.HumanBytes(m.Size))
		}
		b.WriteString("\n</details>\n")
	}
	if d.Failure != "" {
		b.WriteString("\n**Failed:** " + escape(d.Failure) + "\n")
	}
	return b.String()
}

// deploymentState describes the traffic the run left behind.
func deploymentState(r *pipeline.Result) string {
	switch {
	case r.RolledBack && r.PreviousVersionID != "":
		return fmt.Sprintf("rolled back: `%s` serves 100%% again", code(r.PreviousVersionID))
	case r.RolledBack:
		return "rolled back"
	case r.Deployed && r.DeploymentID != "" && r.DeployedPercentage < 100:
		return fmt.Sprintf("%s%% to this version (`%s`)%s", pct(r.DeployedPercentage), code(r.DeploymentID), previous(r))
	case r.Deployed && r.DeploymentID != "":
		return fmt.Sprintf("100%% to this version (`%s`)%s", code(r.DeploymentID), previous(r))
	case r.Deployed:
		return "already serving 100%: nothing to deploy"
	case r.VersionID != "" && !r.DryRun:
		return "none: the version serves no traffic (set `deploy: true` to deploy)"
	}
	return ""
}

func pct(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// urlText keeps a URL from closing its autolink or Markdown link.
func urlText(u string) string {
	return strings.NewReplacer("<", "%3C", ">", "%3E", "(", "%28", ")", "%29", " ", "%20", "|", "%7C", "\n", "", "\r", "").Replace(u)
}

func previous(r *pipeline.Result) string {
	if r.PreviousVersionID == "" || r.PreviousVersionID == r.VersionID {
		return ""
	}
	return fmt.Sprintf("; before: `%s`", code(r.PreviousVersionID))
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
// no table breaks, no @-mentions, no links (Markdown links, and the bare URLs
// GFM links by itself), images, issue references or math. Invalid UTF-8
// becomes U+FFFD.
func escape(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	return unlink(escaper.Replace(s))
}

// wwwPrefix matches the start of GFM's www. autolinks, in any case.
var wwwPrefix = regexp.MustCompile(`(?i)www\.`)

// unlink stops GFM's autolinks of bare URLs ("https://…", "http://…",
// "ftp://…", "www.…"): a zero-width joiner after the scheme's colon (and
// after "www") leaves no scheme or "www." for the autolinker to find, while
// the text reads the same. E-mail autolinks are already broken by the
// zero-width space after "@".
func unlink(s string) string {
	s = strings.ReplaceAll(s, "://", ":\u200d//")
	return wwwPrefix.ReplaceAllStringFunc(s, func(m string) string { return m[:3] + "\u200d." })
}

var escaper = strings.NewReplacer(
	// The backslash first: "\|" in the input must not become an escaped
	// backslash followed by a live table pipe.
	"\\", "\\\\",
	"&", "&amp;", "<", "&lt;", ">", "&gt;", "|", "\\|", "`", "\\`", "*", "\\*", "_", "\\_",
	"[", "\\[", "]", "\\]", "!", "\\!", "#", "\\#", "~", "\\~", "$", "\\$",
	// A zero-width space after @ stops a mention. (A zero-width joiner works
	// too; the space is kept because other goldens pin it.)
	"@", "@\u200b",
)

// code makes text safe inside a Markdown code span in a table.
func code(s string) string {
	return strings.NewReplacer("`", "'", "|", "\\|", "\n", " ", "\r", " ").Replace(s)
}

// htmlEscape makes untrusted text safe inside an HTML element of the report.
// Line breaks become spaces: a blank line would end the HTML block and let
// the rest be parsed as Markdown (mentions, links) outside the element.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;", "\r", " ", "\n", " ").Replace(s)
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
		case apiErr.Status == 401 || apiErr.HasCode(cloudflare.CodeAuthentication) || apiErr.HasCode(cloudflare.CodeInvalidAccessToken):
			return msg + ". Cloudflare did not accept the API token: check that `api-token` is current and has the permission Workers Scripts: Edit on account `account-id`"
		case apiErr.Status == 403:
			return msg + ". The API token lacks a permission for this call: it needs Workers Scripts: Edit on this account"
		case apiErr.HasCode(cloudflare.CodeValidation):
			return msg + ". Cloudflare rejected the version (a syntax error, a missing export, a bad binding, or startup limits): check the modules and `main-module`"
		case apiErr.HasCode(cloudflare.CodeTooLarge):
			return msg + ". The bundle is over the account's size limit (free plan 3 MB, paid 10 MB compressed)"
		case apiErr.Status == 429:
			return msg + ". Cloudflare's rate limit held for the whole retry budget: wait a few minutes and rerun"
		case apiErr.Status >= 500:
			return msg + ". Cloudflare's API kept failing for the whole retry budget: rerun the job later; https://www.cloudflarestatus.com shows incidents"
		}
	}
	// Input errors (*inputs.Error, *bundle.InputError) already name the input
	// and say what to do: their message is the advice.
	return msg
}

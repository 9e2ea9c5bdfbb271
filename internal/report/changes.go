package report

import (
	"fmt"
	"strings"

	"github.com/workers-deploy/workers-deploy/internal/bundle"
	"github.com/workers-deploy/workers-deploy/internal/pipeline"
)

// ChangeSummary renders what a pull-request run's build changes against
// production (docs/change-summary.md) as a Markdown section, "" when the run
// computed none. Binding names, types, flags and tags come from the
// repository or the API and are escaped; no binding value is ever shown (a
// changed value is named by its key only). maxRows caps the binding list.
func ChangeSummary(c *pipeline.Changes, maxRows int) string {
	if c == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString("\n#### Changes against production\n\n")
	switch {
	case c.Unavailable != "":
		fmt.Fprintf(&b, "Not available: %s.\n", escape(c.Unavailable))
		return b.String()
	case c.NoProduction:
		b.WriteString("No production yet: the Worker has no live deployment, so everything in this build is new.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "Compared with version `%s` (#%d), the one with the largest share of the live deployment.\n\n", code(c.ProductionVersionID), c.ProductionVersionNumber)
	b.WriteString("- **Bindings:** " + bindingChanges(c.Bindings, maxRows) + "\n")
	if c.CompatibilityDateFrom != "" || c.CompatibilityDateTo != "" {
		fmt.Fprintf(&b, "- **Compatibility date:** %s → %s\n", orNone(c.CompatibilityDateFrom), orNone(c.CompatibilityDateTo))
	} else {
		b.WriteString("- **Compatibility date:** unchanged\n")
	}
	var fl []string
	if len(c.FlagsAdded) > 0 {
		fl = append(fl, "added "+codeList(c.FlagsAdded))
	}
	if len(c.FlagsRemoved) > 0 {
		fl = append(fl, "removed "+codeList(c.FlagsRemoved))
	}
	if len(fl) == 0 {
		fl = []string{"unchanged"}
	}
	b.WriteString("- **Compatibility flags:** " + strings.Join(fl, "; ") + "\n")
	if c.SizesKnown {
		fmt.Fprintf(&b, "- **Modules:** %d → %d (%s), %s → %s (%s)\n",
			c.ModulesFrom, c.ModulesTo, signedCount(c.ModulesTo-c.ModulesFrom),
			bundle.HumanBytes(c.BytesFrom), bundle.HumanBytes(c.BytesTo), signedBytes(c.BytesTo-c.BytesFrom))
	} else {
		fmt.Fprintf(&b, "- **Modules:** %d, %s (production's sizes not read)\n", c.ModulesTo, bundle.HumanBytes(c.BytesTo))
	}
	if a := c.Assets; a != nil {
		if a.NewOrChanged >= 0 {
			fmt.Fprintf(&b, "- **Assets:** %d files; %d added or changed (content Cloudflare did not store yet); removed files are not shown (production's asset list cannot be read)\n", a.Files, a.NewOrChanged)
		} else {
			fmt.Fprintf(&b, "- **Assets:** %d files; no upload ran (the build was reused), so added or changed files are not known\n", a.Files)
		}
	}
	if m := c.Migrations; m != nil {
		fmt.Fprintf(&b, "- **Durable Object migrations pending:** %d step(s) from tag %s to `%s`, applied when this build is deployed to production\n",
			m.Steps, orNoneCode(m.FromTag), code(m.ToTag))
	} else {
		b.WriteString("- **Durable Object migrations pending:** none\n")
	}
	return b.String()
}

// bindingChanges lists the bindings added, removed or changed, by name and
// type.
func bindingChanges(cs []pipeline.BindingChange, maxRows int) string {
	if len(cs) == 0 {
		return "unchanged"
	}
	if maxRows <= 0 {
		maxRows = DefaultMaxRows
	}
	var out []string
	for i, c := range cs {
		if i == maxRows {
			out = append(out, fmt.Sprintf("… %d more (cut to keep the report short)", len(cs)-maxRows))
			break
		}
		s := fmt.Sprintf("`%s` ", code(c.Name))
		switch {
		case c.Change == "added":
			s += fmt.Sprintf("added (`%s`)", code(c.Type))
		case c.Change == "removed":
			s += fmt.Sprintf("removed (was `%s`)", code(c.OldType))
		case c.OldType != "":
			s += fmt.Sprintf("changed type: `%s` → `%s`", code(c.OldType), code(c.Type))
		default:
			s += fmt.Sprintf("(`%s`) changed: %s", code(c.Type), changedFields(c))
		}
		out = append(out, s)
	}
	return strings.Join(out, "; ")
}

// changedFields names what changed in a binding of the same type: "value"
// for a var's text, else the keys. Values are never shown.
func changedFields(c pipeline.BindingChange) string {
	var fs []string
	for _, f := range c.Fields {
		if (c.Type == "plain_text" && f == "text") || (c.Type == "json" && f == "json") {
			fs = append(fs, "value")
			continue
		}
		fs = append(fs, "`"+code(f)+"`")
	}
	return strings.Join(fs, ", ")
}

func codeList(s []string) string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = "`" + code(v) + "`"
	}
	return strings.Join(out, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return escape(s)
}

func orNoneCode(s string) string {
	if s == "" {
		return "none"
	}
	return "`" + code(s) + "`"
}

func signedCount(n int) string {
	if n > 0 {
		return fmt.Sprintf("+%d", n)
	}
	if n < 0 {
		return fmt.Sprintf("−%d", -n)
	}
	return "±0"
}

func signedBytes(n int64) string {
	switch {
	case n > 0:
		return "+" + bundle.HumanBytes(n)
	case n < 0:
		return "−" + bundle.HumanBytes(-n)
	}
	return "±0 B"
}

package e2e

import (
	"strings"
)

// versionsByTag counts the versions of worker per workers/tag annotation.
func versionsByTag(cf *cloudflare, worker string) map[string]int {
	out := map[string]int{}
	for _, v := range cf.Versions(worker) {
		out[v.Annotations["workers/tag"]]++
	}
	return out
}

// requestLog renders the emulator's and the GitHub fake's requests for failure messages.
func requestLog(cf *cloudflare, gh *fakeGitHub) string {
	var b strings.Builder
	line := func(who, method, path, rawQuery, fault string) {
		b.WriteString("  " + who + " " + method + " " + path)
		if rawQuery != "" {
			b.WriteString("?" + rawQuery)
		}
		if fault != "" {
			b.WriteString("  [" + fault + "]")
		}
		b.WriteString("\n")
	}
	for _, q := range cf.Requests() {
		line("cf", q.Method, q.Path, q.RawQuery, q.Fault)
	}
	if gh != nil {
		for _, q := range gh.records() {
			line("gh", q.Method, q.Path, q.RawQuery, q.Fault)
		}
	}
	return b.String()
}

// Package redact removes secrets from text the action writes: not only their
// raw bytes but the forms an API error echoing a request could show them in
// (JSON-escaped, URL-encoded, base64).
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
)

// MinLen is the shortest secret that is redacted: shorter values would
// replace ordinary words. The runner still masks them in the log.
const MinLen = 6

// Redactor replaces every form of a set of secrets with "***".
type Redactor struct {
	// forms are all forms of all secrets, longest first, so that a form that
	// contains another is replaced whole.
	forms []string
}

// New returns a Redactor for secrets; values shorter than MinLen (after
// trimming white space) and blank ones are skipped.
func New(secrets ...string) *Redactor {
	seen := map[string]bool{}
	var forms []string
	for _, s := range secrets {
		if len(strings.TrimSpace(s)) < MinLen {
			continue
		}
		for _, f := range Forms(s) {
			if !seen[f] {
				seen[f] = true
				forms = append(forms, f)
			}
		}
	}
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return &Redactor{forms: forms}
}

// Redact replaces each form of each secret in s with "***".
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	for _, f := range r.forms {
		s = strings.ReplaceAll(s, f, "***")
	}
	return s
}

// Masks returns every form of every secret, for the runner's ::add-mask::.
func (r *Redactor) Masks() []string {
	if r == nil {
		return nil
	}
	return slices.Clone(r.forms)
}

// Forms returns the forms in which secret can appear in an echoed request or
// error: raw; JSON string content (Go's HTML-safe escaping, \u003c \u003e
// \u0026, and the plain one, \" \\ \t \n); URL-encoded as a query value and
// as a path segment; base64 in the standard and URL alphabets, padded and
// raw, also the part that is the same whatever precedes it by one or two
// bytes (the secret inside a longer encoded text, as the runner masks it).
func Forms(secret string) []string {
	forms := []string{secret}
	add := func(f string) {
		if len(f) >= MinLen-2 && !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	add(jsonContent(secret, true))
	add(jsonContent(secret, false))
	add(url.QueryEscape(secret))
	add(url.PathEscape(secret))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		add(enc.EncodeToString([]byte(secret)))
	}
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		for shift := 0; shift < 3; shift++ {
			add(shifted(enc, secret, shift))
		}
	}
	return forms
}

// jsonContent is secret as the content of a JSON string.
func jsonContent(secret string, htmlSafe bool) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(htmlSafe)
	_ = e.Encode(secret)
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// shifted is the base64 of secret preceded by shift bytes, without the
// characters that depend on those bytes or on what follows the secret.
func shifted(enc *base64.Encoding, secret string, shift int) string {
	s := enc.EncodeToString(append(make([]byte, shift), secret...))
	// Characters before index lead carry bits of the preceding bytes.
	lead := []int{0, 2, 3}[shift]
	// The characters of the last incomplete group carry bits of what follows.
	total := shift + len(secret)
	full := total / 3 * 4
	// Of a last group of one or two bytes, as many characters as bytes are
	// complete.
	full += total % 3
	if lead >= full {
		return ""
	}
	return s[lead:full]
}

package redact

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// hostileSecret has every character JSON, URLs and Markdown escape.
const hostileSecret = "p<a>ss&w\"o\\rd\tX9 z/+?=%é"

// echoes are the ways an API error could repeat a value it was sent.
func echoes(secret string) map[string]string {
	jsonHTML, _ := json.Marshal(secret)
	out := map[string]string{
		"raw":         "value " + secret + " rejected",
		"json":        `{"text":` + string(jsonHTML) + `}`,
		"query":       "?v=" + url.QueryEscape(secret) + "&x=1",
		"path":        "/v/" + url.PathEscape(secret) + "/x",
		"base64 std":  "b=" + base64.StdEncoding.EncodeToString([]byte(secret)),
		"base64 url":  "b=" + base64.URLEncoding.EncodeToString([]byte(secret)),
		"base64 raw":  "b=" + base64.RawStdEncoding.EncodeToString([]byte(secret)),
		"base64 rurl": "b=" + base64.RawURLEncoding.EncodeToString([]byte(secret)),
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(secret)
	out["json plain"] = "body " + b.String()
	for i, prefix := range []string{"a", "ab", "abc"} {
		out["base64 after a prefix "+string(rune('1'+i))] = base64.StdEncoding.EncodeToString([]byte(prefix + secret + "tail"))
		out["base64url after a prefix "+string(rune('1'+i))] = base64.RawURLEncoding.EncodeToString([]byte(prefix + secret + "t"))
	}
	return out
}

// stillThere reports whether the secret can be read back from s in any of
// its forms: raw, or a run of its middle (8 characters) in any encoding.
func stillThere(s, secret string) bool {
	for _, f := range Forms(secret) {
		if len(f) >= 8 && strings.Contains(s, f[2:len(f)-2]) {
			return true
		}
	}
	return false
}

func TestRedactEveryForm(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{hostileSecret, "e2e-token-0123456789abcdefSECRET", "a\nmulti-line\tsecret"} {
		r := New(secret)
		for name, echoed := range echoes(secret) {
			got := r.Redact(echoed)
			assert.Contains(t, got, "***", "%s: %q", name, got)
			assert.False(t, stillThere(got, secret), "%s: %q still holds the secret", name, got)
		}
	}
}

func TestFormsOfHostileSecret(t *testing.T) {
	t.Parallel()
	forms := Forms(hostileSecret)
	for _, want := range []string{
		hostileSecret,
		`p\u003ca\u003ess\u0026w\"o\\rd\tX9 z/+?=%é`,
		`p<a>ss&w\"o\\rd\tX9 z/+?=%é`,
		url.QueryEscape(hostileSecret),
		url.PathEscape(hostileSecret),
		base64.StdEncoding.EncodeToString([]byte(hostileSecret)),
		base64.RawURLEncoding.EncodeToString([]byte(hostileSecret)),
	} {
		assert.Contains(t, forms, want)
	}
}

func TestRedactSkipsShortAndBlank(t *testing.T) {
	t.Parallel()
	r := New("", "   ", "short", "longer-value")
	assert.Equal(t, "short *** ", r.Redact("short longer-value "))
	assert.Equal(t, "x", (*Redactor)(nil).Redact("x"))
	assert.NotEmpty(t, r.Masks())
}

func FuzzRedact(f *testing.F) {
	f.Add(hostileSecret, "prefix")
	f.Add("e2e-token-0123456789", "")
	f.Fuzz(func(t *testing.T, secret, prefix string) {
		if len(strings.TrimSpace(secret)) < MinLen || len(secret) < 12 {
			return
		}
		r := New(secret)
		for name, echoed := range echoes(secret) {
			if got := r.Redact(prefix + echoed); strings.Contains(got, secret) {
				t.Fatalf("%s: %q still holds %q", name, got, secret)
			}
		}
	})
}

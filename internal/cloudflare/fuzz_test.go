package cloudflare

import (
	"net/http"
	"strings"
	"testing"

	"github.com/workers-deploy/workers-deploy/internal/loopback"
)

func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, `{"success":true,"errors":[],"messages":[],"result":{"id":"x","number":1}}`)
	f.Add(404, `{"success":false,"errors":[{"code":10007,"message":"nope"}],"result":null}`)
	f.Add(502, `<html>bad gateway</html>`)
	f.Add(200, `{"success":true,"result":{"number":"x"}}`)
	f.Add(200, `{"success":true,"result":[],"result_info":{"page":1,"per_page":20}}`)
	c := &Client{token: testToken}
	f.Fuzz(func(t *testing.T, status int, body string) {
		if status < 100 || status > 999 {
			return
		}
		res := &http.Response{StatusCode: status, Header: http.Header{}}
		var v Version
		var info resultInfo
		err := c.decodeResponse("GET", "/p", res, []byte(body+testToken), &v, &info)
		if status >= 300 && err == nil {
			t.Fatalf("status %d decoded without error", status)
		}
		if err != nil {
			if strings.Contains(err.Error(), "S3CRET") {
				t.Fatalf("token in error %q", err)
			}
			if ae, ok := err.(*APIError); ok && len(ae.Excerpt) > maxExcerpt {
				if !strings.HasPrefix(ae.Excerpt, "the result could not be decoded") {
					t.Fatalf("excerpt of %d bytes", len(ae.Excerpt))
				}
			}
		}
	})
}

func FuzzParseBaseURL(f *testing.F) {
	f.Add("https://api.cloudflare.com/client/v4")
	f.Add("http://127.0.0.1:8787/client/v4")
	f.Add("http://[::1]/x")
	f.Add("http://example.com")
	f.Add("::")
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := parseBaseURL(raw)
		if err != nil {
			return
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && loopback.IsHost(u.Hostname())) {
			t.Fatalf("accepted %q with scheme %q host %q", raw, u.Scheme, u.Hostname())
		}
		if u.User != nil || u.RawQuery != "" || u.Host == "" {
			t.Fatalf("accepted %q", raw)
		}
	})
}

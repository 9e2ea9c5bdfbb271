package bindings

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func jsons(bs []Binding) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, string(b.JSON))
	}
	return out
}

func TestParseBindings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		input   string
		want    []string
		wantErr string
	}{
		{name: "empty", input: "  ", want: []string{}},
		{name: "json", input: `[{"type":"kv_namespace","name":"KV","namespace_id":"abc"}]`, want: []string{`{"name":"KV","namespace_id":"abc","type":"kv_namespace"}`}},
		{name: "yaml", input: "- type: r2_bucket\n  name: B\n  bucket_name: b\n  jurisdiction: eu\n- type: ratelimit\n  name: RL\n  namespace_id: \"1001\"\n  simple: {limit: 100, period: 60}\n",
			want: []string{`{"bucket_name":"b","jurisdiction":"eu","name":"B","type":"r2_bucket"}`, `{"name":"RL","namespace_id":"1001","simple":{"limit":100,"period":60},"type":"ratelimit"}`}},
		{name: "json value", input: `[{"type":"json","name":"CFG","json":{"a":[1,2.5,null]}}]`, want: []string{`{"json":{"a":[1,2.5,null]},"name":"CFG","type":"json"}`}},
		{name: "not an array", input: `{"type":"ai","name":"AI"}`, wantErr: "not a JSON or YAML array"},
		{name: "no name", input: `[{"type":"ai"}]`, wantErr: "bindings[0]: a binding has no name"},
		{name: "bad name", input: `[{"type":"ai","name":"my-ai"}]`, wantErr: `"my-ai" is not a valid JavaScript identifier`},
		{name: "no type", input: `[{"name":"AI"}]`, wantErr: "has no `type`"},
		{name: "inherit refused", input: `[{"name":"S","type":"inherit"}]`, wantErr: "keep-secrets"},
		{name: "duplicate", input: `[{"type":"ai","name":"AI"},{"type":"browser","name":"AI"}]`, wantErr: `"AI" is used twice`},
		{name: "not objects", input: `[1]`, wantErr: "must be an object"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseBindings(tc.input)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, jsons(got))
		})
	}
}

func TestParseVars(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		input   string
		want    []string
		wantErr string
	}{
		{name: "lines", input: "A=1\n# comment\n\nB = x=y \nC=", want: []string{`{"name":"A","text":"1","type":"plain_text"}`, `{"name":"B","text":" x=y ","type":"plain_text"}`, `{"name":"C","text":"","type":"plain_text"}`}},
		{name: "yaml map", input: "API: https://x.example\nPORT: 8080\nFLAG: true\nEMPTY:\n", want: []string{`{"name":"API","text":"https://x.example","type":"plain_text"}`, `{"name":"PORT","text":"8080","type":"plain_text"}`, `{"name":"FLAG","text":"true","type":"plain_text"}`, `{"name":"EMPTY","text":"","type":"plain_text"}`}},
		{name: "yaml nested refused", input: "A:\n  b: 1\n", wantErr: `var "A" must be a string`},
		{name: "yaml list refused", input: "- a\n- b\n", wantErr: "YAML map"},
		{name: "bad name", input: "1A=x", wantErr: `line 1: "1A" is not a valid var name`},
		{name: "bad name with hyphen after good lines", input: "A=1\n# c\nAPI-BASE=https://x", wantErr: `line 3: "API-BASE" is not a valid var name`},
		{name: "neither lines nor map", input: "just text", wantErr: "KEY=value lines or a YAML map"},
		{name: "bad name yaml", input: "my-var: x", wantErr: `"my-var" is not a valid JavaScript identifier`},
		{name: "duplicate", input: "A=1\nA=2", wantErr: `"A" is used twice`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseVars(tc.input)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, jsons(got))
		})
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	cfgVar, _ := New("MODE", "plain_text", map[string]any{"text": "config"})
	kv, _ := New("KV", "kv_namespace", map[string]any{"namespace_id": "1"})
	inVar, _ := New("MODE", "plain_text", map[string]any{"text": "input"})
	sec, _ := Secret("MODE", "s")
	got, err := Merge(Layer{Source: "wrangler.toml", Bindings: []Binding{cfgVar, kv}}, Layer{Source: "input `vars`", Bindings: []Binding{inVar}, Input: true})
	require.NoError(t, err)
	assert.Equal(t, []string{`{"name":"KV","namespace_id":"1","type":"kv_namespace"}`, `{"name":"MODE","text":"input","type":"plain_text"}`}, jsons(got), "the input wins, sorted by name")

	_, err = Merge(Layer{Source: "input `vars`", Bindings: []Binding{inVar}, Input: true}, Layer{Source: "input `secrets`", Bindings: []Binding{sec}, Input: true})
	require.EqualError(t, err, "binding \"MODE\" is given by both input `vars` and input `secrets`; keep one")
}

func TestSecretAndInherit(t *testing.T) {
	t.Parallel()
	s, err := Secret("TOKEN", "v")
	require.NoError(t, err)
	assert.Equal(t, "TOKEN (secret_text)", s.Info())
	assert.JSONEq(t, `{"name":"TOKEN","type":"inherit","version_id":"abc"}`, string(Inherit("TOKEN", "abc").JSON))
	_, err = Secret("1X", "v")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), `"v"`)
}

func FuzzParseBindings(f *testing.F) {
	f.Add(`[{"type":"kv_namespace","name":"KV","namespace_id":"abc"}]`)
	f.Add("- type: ai\n  name: AI\n")
	f.Add(`[{"type":"json","name":"J","json":{"a":[1,{"b":null}]}}]`)
	f.Add("[]")
	f.Fuzz(func(t *testing.T, input string) {
		bs, err := ParseBindings(input)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, b := range bs {
			if CheckName(b.Name) != nil || b.Type == "" || seen[b.Name] || !json.Valid(b.JSON) {
				t.Fatalf("invalid binding accepted: %s", b.JSON)
			}
			seen[b.Name] = true
		}
	})
}

func FuzzParseVars(f *testing.F) {
	f.Add("A=1\nB=two")
	f.Add("API: https://x\nPORT: 8080\n")
	f.Add("# c\nX = y\n")
	f.Add("A: [1]")
	f.Fuzz(func(t *testing.T, input string) {
		bs, err := ParseVars(input)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, b := range bs {
			if CheckName(b.Name) != nil || b.Type != "plain_text" || seen[b.Name] || !json.Valid(b.JSON) {
				t.Fatalf("invalid var accepted: %s", b.JSON)
			}
			seen[b.Name] = true
		}
	})
}

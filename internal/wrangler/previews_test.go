package wrangler

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPreviewsBlock(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, src string
		check     func(t *testing.T, p *Previews)
		wantErr   string
	}{
		{name: "absent", src: `{"name":"w"}`, check: func(t *testing.T, p *Previews) { assert.Nil(t, p) }},
		{
			name: "own bindings only, settings fall back",
			src: `{"name":"w","main":"src/index.ts","compatibility_date":"2026-01-01","vars":{"A":"top"},
			  "limits":{"cpu_ms":100},"placement":{"mode":"smart"},"cache":{"enabled":true},
			  "previews":{"vars":{"A":"preview","B":"b"},"kv_namespaces":[{"binding":"KV","id":"0123456789abcdef0123456789abcdef"}],
			    "compatibility_flags":[],"limits":{"cpu_ms":50},"observability":{"enabled":true},"tags":["pr"],
			    "tail_consumers":[{"service":"tail"}]}}`,
			check: func(t *testing.T, p *Previews) {
				require.NotNil(t, p)
				var names []string
				for _, b := range p.Bindings {
					names = append(names, b.Name+":"+b.Type)
				}
				assert.Equal(t, []string{"A:plain_text", "B:plain_text", "KV:kv_namespace"}, names)
				assert.Empty(t, p.Main, "main falls back in the pipeline")
				assert.True(t, p.HasCompatibilityFlags)
				assert.Empty(t, p.CompatibilityFlags)
				assert.JSONEq(t, `{"cpu_ms":50}`, string(p.Limits))
				assert.JSONEq(t, `{"mode":"smart"}`, string(p.Placement), "placement from the top level")
				assert.JSONEq(t, `{"enabled":true}`, string(p.CacheOptions), "cache from the top level")
				assert.JSONEq(t, `{"enabled":true}`, string(p.Worker.Observability))
				assert.Equal(t, []string{"pr"}, p.Worker.Tags)
				assert.Equal(t, []string{"tail"}, p.TailConsumers)
			},
		},
		{
			name: "define only from the block",
			src:  `{"name":"w","define":{"STAGE":"\"prod\""},"previews":{"define":{"STAGE":"\"preview\""}}}`,
			check: func(t *testing.T, p *Previews) {
				require.NotNil(t, p)
				assert.Equal(t, map[string]string{"STAGE": `"preview"`}, p.Define)
			},
		},
		{
			name: "no define in the block: none (the top level's is not inherited)",
			src:  `{"name":"w","define":{"STAGE":"\"prod\""},"previews":{}}`,
			check: func(t *testing.T, p *Previews) {
				require.NotNil(t, p)
				assert.Nil(t, p.Define)
			},
		},
		{
			name: "cache from the block",
			src:  `{"name":"w","cache":{"enabled":true},"previews":{"cache":{"enabled":false}}}`,
			check: func(t *testing.T, p *Previews) {
				require.NotNil(t, p)
				assert.JSONEq(t, `{"enabled":false}`, string(p.CacheOptions))
			},
		},
		{
			name: "keys not applied are listed",
			src:  `{"name":"w","previews":{"containers":[{"class_name":"C","image":"./Dockerfile"}],"vars":{"A":"a"},"unknown":1,"tags":[]}}`,
			check: func(t *testing.T, p *Previews) {
				require.NotNil(t, p)
				assert.Equal(t, []string{"previews.containers", "previews.unknown"}, p.Ignored)
			},
		},
		{
			name: "the block's placement in the API's form, as the top level's",
			src:  `{"name":"w","placement":{"mode":"smart"},"previews":{"placement":{"region":"aws:us-east-1"}}}`,
			check: func(t *testing.T, p *Previews) {
				require.NotNil(t, p)
				assert.JSONEq(t, `{"mode":"targeted","region":"aws:us-east-1"}`, string(p.Placement))
			},
		},
		{name: "bad define", src: `{"name":"w","previews":{"define":{"A":1}}}`, wantErr: "previews.define"},
		{name: "not an object", src: `{"name":"w","previews":true}`, wantErr: "previews"},
		{name: "bad vars", src: `{"name":"w","previews":{"vars":[1]}}`, wantErr: "previews.vars"},
		{name: "bad limits", src: `{"name":"w","previews":{"limits":"fast"}}`, wantErr: "previews.limits"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("wrangler.json", []byte(tc.src))
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.NotContains(t, c.Ignored, "previews")
			tc.check(t, c.Previews)
		})
	}
}

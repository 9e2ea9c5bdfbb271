package wrangler

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bindingsJSON returns the configuration's bindings as one JSON array.
func bindingsJSON(t *testing.T, c *Config) string {
	t.Helper()
	raw := make([]json.RawMessage, 0, len(c.Bindings))
	for _, b := range c.Bindings {
		raw = append(raw, b.JSON)
	}
	out, err := json.Marshal(raw)
	require.NoError(t, err)
	return string(out)
}

// TestParseWranglerKinds covers the binding kinds and settings that were
// dropped before: each case's bindings and version settings are what wrangler
// 4.85 uploads for the same entry (d1 under the Workers API's database_id).
func TestParseWranglerKinds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, data   string
		wantBindings string
		wantVersion  VersionSettings
		wantRes      []Resource
	}{
		{
			name:         "newer binding kinds",
			data:         `{"ai_search_namespaces":[{"binding":"AIS","namespace":"docs"}],"worker_loaders":[{"binding":"LOADER"}],"vpc_services":[{"binding":"VPC","service_id":"s1"}],"images":{"binding":"IMAGES"},"media":{"binding":"MEDIA"},"ai":{"binding":"AI","remote":true}}`,
			wantBindings: `[{"name":"AI","type":"ai"},{"name":"AIS","namespace":"docs","type":"ai_search_namespace"},{"name":"IMAGES","type":"images"},{"name":"LOADER","type":"worker_loader"},{"name":"MEDIA","type":"media"},{"name":"VPC","service_id":"s1","type":"vpc_service"}]`,
		},
		{
			name:         "pipelines, secrets store, ratelimits, service props, queue delay",
			data:         `{"pipelines":[{"binding":"P","pipeline":"p1"}],"secrets_store_secrets":[{"binding":"S","store_id":"st","secret_name":"sn"}],"ratelimits":[{"name":"RL","namespace_id":"1001","simple":{"limit":10,"period":60}}],"services":[{"binding":"SVC","service":"auth","props":{"a":1}}],"queues":{"producers":[{"binding":"Q","queue":"q","delivery_delay":30}]}}`,
			wantBindings: `[{"name":"P","pipeline":"p1","type":"pipelines"},{"name":"Q","queue_name":"q","delivery_delay":30,"type":"queue"},{"name":"RL","namespace_id":"1001","simple":{"limit":10,"period":60},"type":"ratelimit"},{"name":"S","secret_name":"sn","store_id":"st","type":"secrets_store_secret"},{"name":"SVC","props":{"a":1},"service":"auth","type":"service"}]`,
		},
		{
			name:         "unsafe.bindings passed through as written",
			data:         `{"unsafe":{"bindings":[{"name":"RATE_LIMITER","type":"ratelimit","namespace_id":"1","simple":{"limit":100,"period":60}}]}}`,
			wantBindings: `[{"name":"RATE_LIMITER","namespace_id":"1","simple":{"limit":100,"period":60},"type":"ratelimit"}]`,
		},
		{
			name:         "analytics engine without dataset sends none",
			data:         `{"analytics_engine_datasets":[{"binding":"AE"}]}`,
			wantBindings: `[{"name":"AE","type":"analytics_engine"}]`,
		},
		{
			name:         "d1 with an empty id is looked up by name, never sent empty",
			data:         `{"d1_databases":[{"binding":"DB","database_name":"shop","database_id":""}],"kv_namespaces":[{"binding":"KV"}],"r2_buckets":[{"binding":"B","bucket_name":"files","jurisdiction":"eu"}]}`,
			wantBindings: `[{"bucket_name":"files","jurisdiction":"eu","name":"B","type":"r2_bucket"}]`,
			wantRes: []Resource{
				{Kind: ResourceKV, Binding: "KV", Where: "kv_namespaces[0]"},
				{Kind: ResourceR2, Binding: "B", Name: "files", Jurisdiction: "eu", Where: "r2_buckets[0]"},
				{Kind: ResourceD1, Binding: "DB", Name: "shop", Where: "d1_databases[0]"},
			},
		},
		{
			name:         "migrations, placement, limits, cache",
			data:         `{"migrations":[{"tag":"v1","new_sqlite_classes":["Chat"]},{"tag":"v2","renamed_classes":[{"from":"Chat","to":"Room"}]}],"placement":{"mode":"smart","hint":"wnam"},"limits":{"cpu_ms":100},"cache":{"enabled":true}}`,
			wantBindings: `[]`,
			wantVersion: VersionSettings{
				Migrations: []Migration{
					{Tag: "v1", Step: json.RawMessage(`{"new_sqlite_classes":["Chat"]}`)},
					{Tag: "v2", Step: json.RawMessage(`{"renamed_classes":[{"from":"Chat","to":"Room"}]}`)},
				},
				Placement:    json.RawMessage(`{"mode":"smart"}`),
				Limits:       json.RawMessage(`{"cpu_ms":100}`),
				CacheOptions: json.RawMessage(`{"enabled":true}`),
			},
		},
		{
			name:         "targeted placement; mode off is none",
			data:         `{"placement":{"region":"aws:us-east-1"}}`,
			wantBindings: `[]`,
			wantVersion:  VersionSettings{Placement: json.RawMessage(`{"mode":"targeted","region":"aws:us-east-1"}`)},
		},
		{
			name:         "placement off",
			data:         `{"placement":{"mode":"off"}}`,
			wantBindings: `[]`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse("wrangler.json", []byte(tc.data))
			require.NoError(t, err)
			assert.JSONEq(t, tc.wantBindings, bindingsJSON(t, c))
			assert.Equal(t, tc.wantVersion, c.Version)
			assert.ElementsMatch(t, tc.wantRes, c.Resources)
			assert.Empty(t, c.Ignored)
		})
	}
}

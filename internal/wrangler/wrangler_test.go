package wrangler

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/bindings"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestParse(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		file    string
		data    string
		want    *Config
		wantErr string
	}{
		{
			name: "jsonc with comments and trailing commas",
			file: "wrangler.jsonc",
			data: `{
  // the Worker
  "$schema": "node_modules/wrangler/config-schema.json",
  "name": "shop", /* inline */
  "main": "dist/index.mjs",
  "compatibility_date": "2025-09-01",
  "compatibility_flags": ["nodejs_compat",],
  "routes": [{"pattern": "shop.example.com/*"}],
  "placement": {"mode": "smart"},
}`,
			want: &Config{Name: "shop", Main: "dist/index.mjs", CompatibilityDate: "2025-09-01",
				CompatibilityFlags: []string{"nodejs_compat"}, HasCompatibilityFlags: true, Ignored: []string{"routes"}, Bindings: []bindings.Binding{},
				Version: VersionSettings{Placement: json.RawMessage(`{"mode":"smart"}`)}},
		},
		{
			name: "equivalent toml",
			file: "wrangler.toml",
			data: "name = \"shop\"\nmain = \"dist/index.mjs\"\ncompatibility_date = \"2025-09-01\"\ncompatibility_flags = [\"nodejs_compat\"]\n\n[placement]\nmode = \"smart\"\n\n[[routes]]\npattern = \"shop.example.com/*\"\n",
			want: &Config{Name: "shop", Main: "dist/index.mjs", CompatibilityDate: "2025-09-01",
				CompatibilityFlags: []string{"nodejs_compat"}, HasCompatibilityFlags: true, Ignored: []string{"routes"}, Bindings: []bindings.Binding{},
				Version: VersionSettings{Placement: json.RawMessage(`{"mode":"smart"}`)}},
		},
		{name: "jsonc syntax error has line and column", file: "wrangler.jsonc", data: "{\n  \"name\": \"a\",,\n}", wantErr: "line 2, column 15"},
		{name: "toml syntax error has line and column", file: "wrangler.toml", data: "name = \"a\"\nmain = \n", wantErr: "line 2, column"},
		{name: "wrong type", file: "wrangler.json", data: `{"name": 3}`, wantErr: `key "name" must be a string`},
		{name: "not an object", file: "wrangler.json", data: `[1]`, wantErr: "top level must be an object"},
		{name: "binding without its id", file: "wrangler.json", data: `{"hyperdrive":[{"binding":"PG"}]}`, wantErr: "hyperdrive[0] (PG): `id` is required"},
		{name: "migration without tag", file: "wrangler.json", data: `{"migrations":[{"new_classes":["A"]}]}`, wantErr: "migrations[0]: `tag` must be a non-empty string"},
		{name: "unsafe binding without type", file: "wrangler.json", data: `{"unsafe":{"bindings":[{"name":"X"}]}}`, wantErr: "unsafe.bindings[0]: binding \"X\" has no `type`"},
		{name: "binding name not an identifier", file: "wrangler.json", data: `{"kv_namespaces":[{"binding":"MY-KV","id":"x"}]}`, wantErr: `"MY-KV" is not a valid JavaScript identifier`},
		{name: "duplicate binding names", file: "wrangler.json", data: `{"vars":{"DB":"x"},"d1_databases":[{"binding":"DB","database_id":"y"}]}`, wantErr: `binding name "DB" is used twice`},
		{name: "bad html_handling", file: "wrangler.json", data: `{"assets":{"directory":"p","html_handling":"sometimes"}}`, wantErr: "assets.html_handling"},
		{name: "bad run_worker_first", file: "wrangler.json", data: `{"assets":{"directory":"p","run_worker_first":3}}`, wantErr: "run_worker_first"},
		{name: "ai without binding", file: "wrangler.json", data: `{"ai":{}}`, wantErr: `"ai" must be an object with a`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tc.file, []byte(tc.data))
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestBindingKinds maps one entry of each binding kind (JSONC and TOML).
func TestBindingKinds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, jsonc, toml string
		want              string
	}{
		{"vars string", `{"vars":{"A":"x"}}`, "[vars]\nA = \"x\"", `{"name":"A","text":"x","type":"plain_text"}`},
		{"vars json", `{"vars":{"A":{"b":[1,true]}}}`, "[vars]\nA = { b = [1, true] }", `{"json":{"b":[1,true]},"name":"A","type":"json"}`},
		{"vars number", `{"vars":{"A":3}}`, "[vars]\nA = 3", `{"json":3,"name":"A","type":"json"}`},
		{"kv", `{"kv_namespaces":[{"binding":"KV","id":"abc"}]}`, "[[kv_namespaces]]\nbinding = \"KV\"\nid = \"abc\"", `{"name":"KV","namespace_id":"abc","type":"kv_namespace"}`},
		{"r2", `{"r2_buckets":[{"binding":"B","bucket_name":"b"}]}`, "[[r2_buckets]]\nbinding = \"B\"\nbucket_name = \"b\"", `{"bucket_name":"b","name":"B","type":"r2_bucket"}`},
		{"r2 jurisdiction", `{"r2_buckets":[{"binding":"B","bucket_name":"b","jurisdiction":"eu"}]}`, "[[r2_buckets]]\nbinding = \"B\"\nbucket_name = \"b\"\njurisdiction = \"eu\"", `{"bucket_name":"b","jurisdiction":"eu","name":"B","type":"r2_bucket"}`},
		{"d1", `{"d1_databases":[{"binding":"DB","database_name":"n","database_id":"id1"}]}`, "[[d1_databases]]\nbinding = \"DB\"\ndatabase_name = \"n\"\ndatabase_id = \"id1\"", `{"database_id":"id1","name":"DB","type":"d1"}`},
		{"service", `{"services":[{"binding":"S","service":"w"}]}`, "[[services]]\nbinding = \"S\"\nservice = \"w\"", `{"name":"S","service":"w","type":"service"}`},
		{"service entrypoint", `{"services":[{"binding":"S","service":"w","entrypoint":"E","environment":"prod"}]}`, "[[services]]\nbinding = \"S\"\nservice = \"w\"\nentrypoint = \"E\"\nenvironment = \"prod\"", `{"entrypoint":"E","environment":"prod","name":"S","service":"w","type":"service"}`},
		{"queue producer", `{"queues":{"producers":[{"binding":"Q","queue":"q"}]}}`, "[[queues.producers]]\nbinding = \"Q\"\nqueue = \"q\"", `{"name":"Q","queue_name":"q","type":"queue"}`},
		{"durable object", `{"durable_objects":{"bindings":[{"name":"D","class_name":"C","script_name":"other"}]}}`, "[[durable_objects.bindings]]\nname = \"D\"\nclass_name = \"C\"\nscript_name = \"other\"", `{"class_name":"C","name":"D","script_name":"other","type":"durable_object_namespace"}`},
		{"analytics engine", `{"analytics_engine_datasets":[{"binding":"AE","dataset":"ds"}]}`, "[[analytics_engine_datasets]]\nbinding = \"AE\"\ndataset = \"ds\"", `{"dataset":"ds","name":"AE","type":"analytics_engine"}`},
		{"analytics engine without dataset (wrangler sends none)", `{"analytics_engine_datasets":[{"binding":"AE"}]}`, "[[analytics_engine_datasets]]\nbinding = \"AE\"", `{"name":"AE","type":"analytics_engine"}`},
		{"hyperdrive", `{"hyperdrive":[{"binding":"H","id":"h1"}]}`, "[[hyperdrive]]\nbinding = \"H\"\nid = \"h1\"", `{"id":"h1","name":"H","type":"hyperdrive"}`},
		{"vectorize", `{"vectorize":[{"binding":"V","index_name":"i"}]}`, "[[vectorize]]\nbinding = \"V\"\nindex_name = \"i\"", `{"index_name":"i","name":"V","type":"vectorize"}`},
		{"ai", `{"ai":{"binding":"AI"}}`, "[ai]\nbinding = \"AI\"", `{"name":"AI","type":"ai"}`},
		{"browser", `{"browser":{"binding":"BR"}}`, "[browser]\nbinding = \"BR\"", `{"name":"BR","type":"browser"}`},
		{"version metadata", `{"version_metadata":{"binding":"VM"}}`, "[version_metadata]\nbinding = \"VM\"", `{"name":"VM","type":"version_metadata"}`},
		{"send email", `{"send_email":[{"name":"M","allowed_sender_addresses":["a@x.com"]}]}`, "[[send_email]]\nname = \"M\"\nallowed_sender_addresses = [\"a@x.com\"]", `{"allowed_sender_addresses":["a@x.com"],"name":"M","type":"send_email"}`},
		{"workflow", `{"workflows":[{"binding":"W","name":"wf","class_name":"C"}]}`, "[[workflows]]\nbinding = \"W\"\nname = \"wf\"\nclass_name = \"C\"", `{"class_name":"C","name":"W","type":"workflow","workflow_name":"wf"}`},
		{"dispatch namespace", `{"dispatch_namespaces":[{"binding":"DN","namespace":"ns"}]}`, "[[dispatch_namespaces]]\nbinding = \"DN\"\nnamespace = \"ns\"", `{"name":"DN","namespace":"ns","type":"dispatch_namespace"}`},
		{"dispatch namespace outbound", `{"dispatch_namespaces":[{"binding":"DN","namespace":"ns","outbound":{"service":"o","environment":"e","parameters":["p"]}}]}`, "[[dispatch_namespaces]]\nbinding = \"DN\"\nnamespace = \"ns\"\noutbound = { service = \"o\", environment = \"e\", parameters = [\"p\"] }", `{"name":"DN","namespace":"ns","outbound":{"params":[{"name":"p"}],"worker":{"environment":"e","service":"o"}},"type":"dispatch_namespace"}`},
		{"mtls", `{"mtls_certificates":[{"binding":"C","certificate_id":"c1"}]}`, "[[mtls_certificates]]\nbinding = \"C\"\ncertificate_id = \"c1\"", `{"certificate_id":"c1","name":"C","type":"mtls_certificate"}`},
		{"assets binding", `{"assets":{"directory":"p","binding":"ASSETS"}}`, "[assets]\ndirectory = \"p\"\nbinding = \"ASSETS\"", `{"name":"ASSETS","type":"assets"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for file, data := range map[string]string{"wrangler.jsonc": tc.jsonc, "wrangler.toml": tc.toml} {
				c, err := Parse(file, []byte(data))
				require.NoError(t, err, file)
				require.Len(t, c.Bindings, 1, file)
				assert.JSONEq(t, tc.want, string(c.Bindings[0].JSON), file)
				assert.Equal(t, tc.want, string(c.Bindings[0].JSON), "%s: canonical key order", file)
			}
		})
	}
}

func TestEnvInheritance(t *testing.T) {
	t.Parallel()
	data := `{
  "name": "shop", "main": "src/index.mjs", "compatibility_date": "2025-01-01",
  "compatibility_flags": ["nodejs_compat"], "workers_dev": false,
  "vars": {"TOP": "1"}, "kv_namespaces": [{"binding": "KV", "id": "top"}],
  "routes": ["shop.example.com/*"],
  "env": {
    "staging": {"vars": {"STAGE": "s"}, "compatibility_date": "2025-02-01"},
    "named": {"name": "shop-preview", "ai": {"binding": "AI"}},
  },
}`
	cases := []struct {
		name         string
		env          string
		wantName     string
		wantDate     string
		wantBindings []string
		wantErr      string
	}{
		{name: "top level", env: "", wantName: "shop", wantDate: "2025-01-01", wantBindings: []string{"KV", "TOP"}},
		{name: "env overrides and does not inherit bindings", env: "staging", wantName: "shop-staging", wantDate: "2025-02-01", wantBindings: []string{"STAGE"}},
		{name: "env with its own name", env: "named", wantName: "shop-preview", wantDate: "2025-01-01", wantBindings: []string{"AI"}},
		{name: "unknown env", env: "prod", wantErr: `no env.prod; it defines: named, staging`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseEnv("wrangler.jsonc", []byte(data), tc.env)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantName, c.Name)
			assert.Equal(t, tc.wantDate, c.CompatibilityDate)
			assert.Equal(t, "src/index.mjs", c.Main, "main inherits")
			assert.Equal(t, []string{"nodejs_compat"}, c.CompatibilityFlags, "flags inherit")
			require.NotNil(t, c.Worker.WorkersDev, "workers_dev inherits")
			assert.False(t, *c.Worker.WorkersDev)
			assert.Equal(t, tc.wantBindings, bindings.Names(c.Bindings))
			assert.Equal(t, []string{"routes"}, c.Ignored)
		})
	}
}

func TestEnvWithoutSections(t *testing.T) {
	t.Parallel()
	c, err := ParseEnv("wrangler.toml", []byte("name = \"a\"\n[vars]\nX = \"1\"\n"), "dev")
	require.NoError(t, err)
	assert.Equal(t, "a-dev", c.Name)
	assert.Equal(t, []string{"X"}, bindings.Names(c.Bindings), "like wrangler, the top level is used")
	require.Len(t, c.Warnings, 1)
}

// TestGoldenFull: a large real-world configuration gives the same result from
// JSONC and TOML, pinned by a golden file.
func TestGoldenFull(t *testing.T) {
	t.Parallel()
	render := func(file string) string {
		data, err := os.ReadFile(filepath.Join("testdata", file))
		require.NoError(t, err)
		c, err := Parse(file, data)
		require.NoError(t, err)
		out := map[string]any{
			"name": c.Name, "main": c.Main, "compatibility_date": c.CompatibilityDate,
			"compatibility_flags": c.CompatibilityFlags, "bindings": bindings.Raw(c.Bindings),
			"assets": c.Assets, "worker": c.Worker, "ignored": c.Ignored,
		}
		b, err := json.MarshalIndent(out, "", "  ")
		require.NoError(t, err)
		return string(b) + "\n"
	}
	fromJSONC, fromTOML := render("full.jsonc"), render("full.toml")
	assert.Equal(t, fromJSONC, fromTOML, "JSONC and TOML must give identical bindings and settings")
	golden := filepath.Join("testdata", "full.golden.json")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(fromJSONC), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), fromJSONC)
}

func TestLoadNamesFile(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{"w/wrangler.toml": {Data: []byte("name = \n")}}
	_, err := Load("w/wrangler.toml", fsys.ReadFile)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"w/wrangler.toml"`)
	assert.Contains(t, err.Error(), "line 1")
}

func FuzzParse(f *testing.F) {
	f.Add("wrangler.jsonc", `{"name":"a", // c
"main":"x.mjs",}`, "")
	f.Add("wrangler.toml", "name = \"a\"\n[env.staging]\nname = \"b\"\n", "staging")
	f.Add("wrangler.json", `{"compatibility_flags":["a","b"],"vars":{"A":{"b":1}},"kv_namespaces":[{"binding":"K","id":"1"}]}`, "")
	f.Add("wrangler.json", `{"queues":{"producers":[{"binding":"Q","queue":"q"}]},"dispatch_namespaces":[{"binding":"D","namespace":"n","outbound":{"service":"s"}}]}`, "x")
	f.Add("wrangler.json", `{"migrations":[{"tag":"v1","new_classes":["A"]}],"placement":{"hint":"x"},"limits":{"cpu_ms":1},"cache":{"enabled":true},"unsafe":{"bindings":[{"name":"U","type":"ratelimit"}]}}`, "")
	f.Add("wrangler.json", `{"d1_databases":[{"binding":"D","database_id":"","database_name":"n"}],"kv_namespaces":[{"binding":"K"}],"r2_buckets":[{"binding":"R","bucket_name":"b"}],"worker_loaders":[{"binding":"L"}]}`, "")
	f.Fuzz(func(t *testing.T, name, data, env string) {
		c, err := ParseEnv(name, []byte(data), env)
		if err != nil {
			return
		}
		if c == nil {
			t.Fatal("nil config without error")
		}
		seen := map[string]bool{}
		for _, r := range c.Resources {
			if r.Kind != ResourceR2 {
				seen[r.Binding] = true
			}
		}
		for _, b := range c.Bindings {
			if seen[b.Name] || bindings.CheckName(b.Name) != nil || !json.Valid(b.JSON) {
				t.Fatalf("invalid binding %q in %s", b.Name, b.JSON)
			}
			seen[b.Name] = true
		}
	})
}

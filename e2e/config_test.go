package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
)

// everyKindJSONC uses every binding kind the action reads from configuration.
const everyKindJSONC = `{
  // storefront: every binding kind
  "name": "storefront",
  "compatibility_flags": ["nodejs_compat"],
  "routes": ["shop.example.com/*"],
  "assets": { "directory": "public", "binding": "ASSETS", "not_found_handling": "404-page", "run_worker_first": ["/api/*"] },
  "vars": { "API_BASE": "https://api.example.com", "LIMITS": { "items": 50 } },
  "kv_namespaces": [{ "binding": "CACHE", "id": "0f2ac74b498b48028cb68387c421e279" }],
  "r2_buckets": [{ "binding": "ARCHIVE", "bucket_name": "archive", "jurisdiction": "eu" }],
  "d1_databases": [{ "binding": "DB", "database_name": "shop", "database_id": "a1b2c3d4-e5f6-4a5b-8c7d-0123456789ab" }],
  "services": [{ "binding": "BILLING", "service": "billing", "entrypoint": "BillingRPC" }],
  "queues": { "producers": [{ "binding": "ORDERS", "queue": "orders" }] },
  "durable_objects": { "bindings": [{ "name": "CART", "class_name": "Cart", "script_name": "carts" }] },
  "analytics_engine_datasets": [{ "binding": "EVENTS", "dataset": "events" }],
  "hyperdrive": [{ "binding": "PG", "id": "6f5d3c2b1a0948e7a6b5c4d3e2f1a0b9" }],
  "vectorize": [{ "binding": "SEARCH", "index_name": "products" }],
  "ai": { "binding": "AI" },
  "browser": { "binding": "BROWSER" },
  "version_metadata": { "binding": "VERSION" },
  "send_email": [{ "name": "MAILER", "destination_address": "orders@example.com" }],
  "workflows": [{ "binding": "FULFIL", "name": "fulfilment", "class_name": "Fulfilment", "script_name": "fulfil" }],
  "dispatch_namespaces": [{ "binding": "TENANTS", "namespace": "customers", "outbound": { "service": "proxy", "parameters": ["tenant"] } }],
  "mtls_certificates": [{ "binding": "BANK", "certificate_id": "cert-123" }],
}`

const everyKindTOML = `name = "storefront"
compatibility_flags = ["nodejs_compat"]
routes = ["shop.example.com/*"]

[assets]
directory = "public"
binding = "ASSETS"
not_found_handling = "404-page"
run_worker_first = ["/api/*"]

[vars]
API_BASE = "https://api.example.com"
LIMITS = { items = 50 }

[[kv_namespaces]]
binding = "CACHE"
id = "0f2ac74b498b48028cb68387c421e279"

[[r2_buckets]]
binding = "ARCHIVE"
bucket_name = "archive"
jurisdiction = "eu"

[[d1_databases]]
binding = "DB"
database_name = "shop"
database_id = "a1b2c3d4-e5f6-4a5b-8c7d-0123456789ab"

[[services]]
binding = "BILLING"
service = "billing"
entrypoint = "BillingRPC"

[[queues.producers]]
binding = "ORDERS"
queue = "orders"

[[durable_objects.bindings]]
name = "CART"
class_name = "Cart"
script_name = "carts"

[[analytics_engine_datasets]]
binding = "EVENTS"
dataset = "events"

[[hyperdrive]]
binding = "PG"
id = "6f5d3c2b1a0948e7a6b5c4d3e2f1a0b9"

[[vectorize]]
binding = "SEARCH"
index_name = "products"

[ai]
binding = "AI"

[browser]
binding = "BROWSER"

[version_metadata]
binding = "VERSION"

[[send_email]]
name = "MAILER"
destination_address = "orders@example.com"

[[workflows]]
binding = "FULFIL"
name = "fulfilment"
class_name = "Fulfilment"
script_name = "fulfil"

[[dispatch_namespaces]]
binding = "TENANTS"
namespace = "customers"
outbound = { service = "proxy", parameters = ["tenant"] }

[[mtls_certificates]]
binding = "BANK"
certificate_id = "cert-123"
`

// siteFiles writes a static site under public/, with an .assetsignore that
// leaves out the source map and the drafts.
func siteFiles(t *testing.T, ws string) {
	t.Helper()
	write(t, ws, "public/index.html", []byte("<h1>shop</h1>"))
	write(t, ws, "public/css/app.css", []byte("body{margin:0}"))
	write(t, ws, "public/app.js.map", []byte("{}"))
	write(t, ws, "public/drafts/wip.html", []byte("wip"))
	write(t, ws, "public/.assetsignore", []byte("# not served\n*.map\ndrafts/\n"))
}

func hash32(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:32]
}

func countRequests(cf *cloudflare, method, suffix string) int {
	n := 0
	for _, r := range cf.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) {
			n++
		}
	}
	return n
}

func TestConfigJSONCAndTOMLGiveIdenticalVersions(t *testing.T) {
	t.Parallel()
	versions := map[string]emulator.VersionState{}
	for file, content := range map[string]string{"wrangler.jsonc": everyKindJSONC, "wrangler.toml": everyKindTOML} {
		cf := newCloudflare(t)
		ws := workspace(t, "esm-multi")
		write(t, ws, file, []byte(content))
		siteFiles(t, ws)
		// The R2 bucket must exist (or be created): create-resources creates it.
		r := pushJob(t, cf, ws, map[string]string{"worker": "", "vars": "API_BASE: https://override.example.com\n", "create-resources": "true"}).exec(t, ctxFor(t))
		require.Equal(t, 0, r.Code, r.Stdout)
		assert.Equal(t, "storefront", r.Outputs["worker-name"])
		assert.Contains(t, r.Stdout, "::notice", "unapplied keys are listed in a notice")
		assert.Contains(t, r.Stdout, "routes")
		vs := cf.Versions("storefront")
		require.Len(t, vs, 1, file)
		versions[file] = vs[0]
		assertNoSecrets(t, r)
	}
	jsonc, toml := versions["wrangler.jsonc"], versions["wrangler.toml"]
	assert.Equal(t, jsonc.Bindings, toml.Bindings, "JSONC and TOML must produce identical bindings")
	assert.Equal(t, jsonc.CompatibilityFlags, toml.CompatibilityFlags)
	byName := map[string]map[string]any{}
	for _, b := range jsonc.Bindings {
		byName[b["name"].(string)] = b
	}
	wantTypes := map[string]string{
		"API_BASE": "plain_text", "LIMITS": "json", "CACHE": "kv_namespace", "ARCHIVE": "r2_bucket", "DB": "d1",
		"BILLING": "service", "ORDERS": "queue", "CART": "durable_object_namespace", "EVENTS": "analytics_engine",
		"PG": "hyperdrive", "SEARCH": "vectorize", "AI": "ai", "BROWSER": "browser", "VERSION": "version_metadata",
		"MAILER": "send_email", "FULFIL": "workflow", "TENANTS": "dispatch_namespace", "BANK": "mtls_certificate", "ASSETS": "assets",
	}
	got := map[string]string{}
	for n, b := range byName {
		got[n] = b["type"].(string)
	}
	assert.Equal(t, wantTypes, got)
	assert.Equal(t, "https://override.example.com", byName["API_BASE"]["text"], "input vars override configuration vars")
	assert.Equal(t, "eu", byName["ARCHIVE"]["jurisdiction"])
	assert.Equal(t, "BillingRPC", byName["BILLING"]["entrypoint"])
}

func TestAssetsUploadedOnceAndIgnoreFileHonoured(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	write(t, ws, "wrangler.json", []byte(`{"name":"site","assets":{"directory":"public","binding":"ASSETS"}}`))
	siteFiles(t, ws)
	in := map[string]string{"worker": "", "tag": "v1"}
	r := pushJob(t, cf, ws, in).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	stored := cf.Assets("site")
	assert.Len(t, stored, 2)
	assert.Equal(t, []byte("<h1>shop</h1>"), stored[hash32("<h1>shop</h1>")])
	assert.Contains(t, stored, hash32("body{margin:0}"))
	assert.NotContains(t, stored, hash32("{}"), ".assetsignore: *.map")
	assert.NotContains(t, stored, hash32("wip"), ".assetsignore: drafts/")
	assert.Equal(t, 1, countRequests(cf, "POST", "/assets/upload"))

	// Same tag: the version is reused and nothing is written.
	cf.ResetRequests()
	r = pushJob(t, cf, ws, in).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, "true", r.Outputs["version-reused"])
	assert.Empty(t, cf.Writes())

	// New tag, same files: a session, but no upload.
	cf.ResetRequests()
	r = pushJob(t, cf, ws, map[string]string{"worker": "", "tag": "v2"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, 1, countRequests(cf, "POST", "/assets-upload-session"))
	assert.Equal(t, 0, countRequests(cf, "POST", "/assets/upload"), "unchanged files are not sent again")
	assert.Len(t, cf.Versions("site"), 2)

	// One changed file: only it is sent.
	write(t, ws, "public/index.html", []byte("<h1>shop v3</h1>"))
	cf.ResetRequests()
	r = pushJob(t, cf, ws, map[string]string{"worker": "", "tag": "v3"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, 1, countRequests(cf, "POST", "/assets/upload"))
	assert.Len(t, cf.Assets("site"), 3)
}

func TestSecretCarriedToNextVersionAndDroppedWithoutKeep(t *testing.T) {
	t.Parallel()
	const secretValue = "sk_live_e2eSuperSecretValue42"
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	first := pushJob(t, cf, ws, map[string]string{"tag": "v1", "deploy": "true", "secrets": "API_KEY"})
	first.Env = map[string]string{"API_KEY": secretValue}
	r := first.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assertSecretMasked(t, r, secretValue)

	secretOf := func(v emulator.VersionState) map[string]any {
		for _, b := range v.Bindings {
			if b["name"] == "API_KEY" {
				return b
			}
		}
		return nil
	}
	vs := cf.Versions("shop")
	require.Len(t, vs, 1)
	require.NotNil(t, secretOf(vs[0]))
	assert.Equal(t, secretValue, secretOf(vs[0])["text"])

	// Next commit without `secrets`: the secret is carried by an inherit binding.
	r = pushJob(t, cf, ws, map[string]string{"tag": "v2", "deploy": "true"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	vs = cf.Versions("shop")
	require.Len(t, vs, 2)
	b := secretOf(vs[1])
	require.NotNil(t, b, "keep-secrets carries the live version's secret")
	assert.Equal(t, "secret_text", b["type"])
	assert.Equal(t, secretValue, b["text"], "the emulator resolved the inherit binding")
	assert.NotContains(t, r.Stdout, secretValue)

	// keep-secrets: false drops it.
	r = pushJob(t, cf, ws, map[string]string{"tag": "v3", "keep-secrets": "false"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	vs = cf.Versions("shop")
	require.Len(t, vs, 3)
	assert.Nil(t, secretOf(vs[2]))
}

// assertSecretMasked: the value is only ever printed in ::add-mask:: before
// any other line, and is in no output, summary or error.
func assertSecretMasked(t *testing.T, r *run, value string) {
	t.Helper()
	masked := false
	for _, l := range strings.Split(r.Stdout, "\n") {
		if l == "::add-mask::"+value {
			masked = true
			continue
		}
		assert.NotContains(t, l, value)
	}
	assert.True(t, masked, "the secret value is masked")
	for name, v := range r.Outputs {
		assert.NotContains(t, v, value, "output %s", name)
	}
	assert.NotContains(t, r.Summary, value)
	assertNoSecrets(t, r)
}

func TestSecretErrorsNeverShowValues(t *testing.T) {
	t.Parallel()
	const secretValue = "hunter2-e2e-secret-value"
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	// A name given by both `vars` and `secrets` fails before any write.
	j := pushJob(t, cf, ws, map[string]string{"secrets": "TOKEN", "vars": "TOKEN=plain"})
	j.Env = map[string]string{"TOKEN": secretValue}
	r := j.exec(t, ctxFor(t))
	assert.Equal(t, 1, r.Code)
	require.Len(t, r.errors(), 1, r.Stdout)
	assert.Contains(t, r.errors()[0], "TOKEN")
	assertSecretMasked(t, r, secretValue)
	assert.Empty(t, cf.Writes())

	// An unset variable is named.
	r = pushJob(t, cf, ws, map[string]string{"secrets": "MISSING_SECRET"}).exec(t, ctxFor(t))
	assert.Equal(t, 1, r.Code)
	require.Len(t, r.errors(), 1, r.Stdout)
	assert.Contains(t, r.errors()[0], "MISSING_SECRET")
	assert.Empty(t, cf.Writes())
}

func TestWorkerByIDDeploysByName(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	require.Equal(t, 0, pushJob(t, cf, ws, map[string]string{"tag": "v1"}).exec(t, ctxFor(t)).Code)
	id := cf.Workers()[0].ID
	cf.ResetRequests()
	r := pushJob(t, cf, ws, map[string]string{"worker": id, "tag": "v2", "deploy": "true", "create-worker": "false"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, id, r.Outputs["worker-id"])
	assert.Equal(t, "shop", r.Outputs["worker-name"])
	deps := cf.Deployments("shop")
	require.NotEmpty(t, deps)
	assert.Equal(t, r.Outputs["version-id"], deps[len(deps)-1].Versions[0].VersionID)
	scripts := 0
	for _, q := range cf.Requests() {
		if strings.Contains(q.Path, "/scripts/") {
			scripts++
			assert.Contains(t, q.Path, "/scripts/shop/", "deployments go by name")
		}
	}
	assert.Positive(t, scripts, "the deployment went through /scripts/")
}

func TestBrokenConfigFailsBeforeAnyWrite(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, file, content string
		inputs              map[string]string
		want                []string
	}{
		{name: "jsonc syntax", file: "wrangler.jsonc", content: "{\n  \"name\": \"shop\",,\n}", want: []string{"wrangler.jsonc", "line 2, column 18"}},
		{name: "toml syntax", file: "wrangler.toml", content: "name = \"shop\"\n[vars\n", want: []string{"wrangler.toml", "line 3, column"}},
		{name: "binding without id", file: "wrangler.toml", content: "name = \"shop\"\n[[hyperdrive]]\nbinding = \"PG\"\n", want: []string{"hyperdrive[0]", "`id` is required"}},
		{name: "kv without id, no create-resources", file: "wrangler.toml", content: "name = \"shop\"\n[[kv_namespaces]]\nbinding = \"KV\"\n", want: []string{"kv_namespaces[0]", "shop-kv", "create-resources"}},
		{name: "migrations with stages", file: "wrangler.toml", content: "name = \"shop\"\n[[migrations]]\ntag = \"v1\"\nnew_sqlite_classes = [\"Chat\"]\n", inputs: map[string]string{"deploy": "true", "stages": "10%@1s, 100%"}, want: []string{"stages", "Durable Object migrations"}},
		{name: "unknown env", file: "wrangler.toml", content: "name = \"shop\"\n[env.staging]\n", inputs: map[string]string{"wrangler-env": "prod"}, want: []string{"env.prod", "staging"}},
		{name: "bad bindings input", file: "wrangler.toml", content: "name = \"shop\"\n", inputs: map[string]string{"bindings": `[{"type":"kv_namespace","name":"bad-name"}]`}, want: []string{"bindings", "bad-name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			ws := workspace(t, "esm-multi")
			write(t, ws, tc.file, []byte(tc.content))
			in := map[string]string{"worker": ""}
			for k, v := range tc.inputs {
				in[k] = v
			}
			r := pushJob(t, cf, ws, in).exec(t, ctxFor(t))
			assert.Equal(t, 1, r.Code)
			require.Len(t, r.errors(), 1, r.Stdout)
			for _, w := range tc.want {
				assert.Contains(t, r.errors()[0], w)
			}
			assert.Empty(t, cf.Writes())
		})
	}
}

func TestWranglerEnvNaming(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := workspace(t, "esm-multi")
	write(t, ws, "wrangler.toml", []byte("name = \"shop\"\ncompatibility_flags = [\"nodejs_compat\"]\n[vars]\nTOP = \"1\"\n[env.staging.vars]\nSTAGE = \"s\"\n"))
	r := pushJob(t, cf, ws, map[string]string{"worker": "", "wrangler-env": "staging"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, "shop-staging", r.Outputs["worker-name"])
	vs := cf.Versions("shop-staging")
	require.Len(t, vs, 1)
	assert.Equal(t, []string{"nodejs_compat"}, vs[0].CompatibilityFlags, "compatibility_flags inherit")
	require.Len(t, vs[0].Bindings, 1, "vars do not inherit")
	assert.Equal(t, "STAGE", vs[0].Bindings[0]["name"])
}

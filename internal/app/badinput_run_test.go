package app

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/workers-deploy/workers-deploy/internal/emulator"
	"github.com/workers-deploy/workers-deploy/internal/inputs"
)

// badRow is one row of TestRunBadInput.
type badRow struct {
	name string
	// fixture is the Worker under testdata/workers; "" means esm-multi.
	fixture string
	// inputs override pushJob's (the runner's INPUT_* variables).
	inputs map[string]string
	// env are extra process variables (CLOUDFLARE_*, the variables `secrets` names).
	env map[string]string
	// args are command-line flags.
	args []string
	// setup changes the workspace before the run (hostile files, configuration).
	setup func(t *testing.T, ws string)
	// seed deploys a first version (tag "base") before the run; the seed's
	// requests are forgotten, so the run itself must still write nothing.
	seed bool
	// prepare runs after seed with the emulator, and returns inputs that
	// depend on the seeded state (e.g. a version ID).
	prepare func(t *testing.T, cf *emulated, ws string) map[string]string
	// pr runs the row as a pull_request event (comment and GitHub Deployment
	// on), where a bad input must not write a comment either.
	pr bool
	// want are substrings of the one ::error:: line; the first names the
	// input (or the file).
	want []string
	// secret is a value that must not appear anywhere in the output.
	secret string
}

// TestRunBadInput: every input with its invalid forms, and hostile files, run
// in-process through Env. Every row fails with exit 1, exactly one ::error::
// that names the input or file, no write request to Cloudflare and none to
// GitHub. (e2e.TestBadInput runs the rows that need the built binary.)
func TestRunBadInput(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 64)
	cases := []badRow{
		// ---- unknown flags and the command line --------------------------------
		{name: "args: unknown flag", args: []string{"--wroker=shop"}, want: []string{"wroker", "unknown flag", "valid flags"}},
		{name: "args: flag given twice", args: []string{"--tag=a", "--tag=b"}, want: []string{"tag", "twice"}},
		{name: "args: positional argument", args: []string{"shop"}, want: []string{"shop", "--name=value"}},
		{name: "args: flag without a value", args: []string{"--tag"}, want: []string{"tag", "needs a value"}},
		{name: "args: bad boolean flag value", args: []string{"--deploy=yes"}, want: []string{"deploy", "true or false"}},

		// ---- api-token ----------------------------------------------------------
		{name: "api-token: missing", inputs: map[string]string{"api-token": ""}, want: []string{"api-token", "CLOUDFLARE_API_TOKEN"}},
		{name: "api-token: white space inside", inputs: map[string]string{"api-token": "abc def"}, want: []string{"api-token", "white space"}},
		{name: "api-token: missing input, blank env", inputs: map[string]string{"api-token": ""}, env: map[string]string{"CLOUDFLARE_API_TOKEN": "   "}, want: []string{"api-token", "CLOUDFLARE_API_TOKEN"}},

		// ---- account-id ---------------------------------------------------------
		{name: "account-id: missing", inputs: map[string]string{"account-id": ""}, want: []string{"account-id", "CLOUDFLARE_ACCOUNT_ID"}},
		{name: "account-id: not hex", inputs: map[string]string{"account-id": "acme"}, want: []string{"account-id", "acme", "32"}},
		{name: "account-id: 33 hex characters", inputs: map[string]string{"account-id": testAccount + "a"}, want: []string{"account-id", "32"}},
		{name: "account-id: upper case", inputs: map[string]string{"account-id": strings.ToUpper(testAccount)}, want: []string{"account-id", "lower-case"}},
		{name: "account-id: malformed from the environment", inputs: map[string]string{"account-id": ""}, env: map[string]string{"CLOUDFLARE_ACCOUNT_ID": "acme"}, want: []string{"account-id", "acme"}},

		// ---- api-url ------------------------------------------------------------
		{name: "api-url: plain http to a remote host", inputs: map[string]string{"api-url": "http://api.example.com/client/v4"}, want: []string{"api-url", "loopback"}},
		{name: "api-url: garbage", inputs: map[string]string{"api-url": "not a url"}, want: []string{"api-url", "not a url", "absolute URL"}},
		{name: "api-url: relative path", inputs: map[string]string{"api-url": "/client/v4"}, want: []string{"api-url", "absolute URL"}},
		{name: "api-url: unsupported scheme", inputs: map[string]string{"api-url": "ftp://api.example.com/client/v4"}, want: []string{"api-url", "ftp"}},
		{name: "api-url: credentials in the URL", inputs: map[string]string{"api-url": "https://user:pw@api.example.com/client/v4"}, want: []string{"api-url", "credentials"}},
		{name: "api-url: query string", inputs: map[string]string{"api-url": "https://api.example.com/client/v4?x=1"}, want: []string{"api-url", "query"}},
		{name: "api-url: garbage from the environment", inputs: map[string]string{"api-url": ""}, env: map[string]string{"CLOUDFLARE_API_BASE_URL": "http://evil.example.com"}, want: []string{"api-url", "loopback"}},

		// ---- worker and create-worker -------------------------------------------
		{name: "worker: invalid characters", inputs: map[string]string{"worker": "Shop!"}, want: []string{"worker", "Shop!"}},
		{name: "worker: 64 characters", inputs: map[string]string{"worker": long}, want: []string{"worker", "63"}},
		{name: "worker: starts with a hyphen", inputs: map[string]string{"worker": "-shop"}, want: []string{"worker", "-shop"}},
		{name: "worker: ends with a hyphen", inputs: map[string]string{"worker": "shop-"}, want: []string{"worker", "shop-"}},
		{name: "worker: none given and no configuration", inputs: map[string]string{"worker": ""}, want: []string{"worker", "no Worker named"}},
		{
			name: "worker: invalid name in the configuration", inputs: map[string]string{"worker": ""},
			setup: func(t *testing.T, ws string) { write(t, ws, "wrangler.toml", []byte("name = \"My Shop\"\n")) },
			want:  []string{"config", "wrangler.toml", "My Shop"},
		},
		{name: "worker: ID not in the account", inputs: map[string]string{"worker": "0123456789abcdef0123456789abcdef"}, want: []string{"worker", "0123456789abcdef0123456789abcdef", "account-id"}},
		{name: "create-worker: not a boolean", inputs: map[string]string{"create-worker": "maybe"}, want: []string{"create-worker", "true or false"}},
		{name: "create-worker: false and the Worker does not exist", inputs: map[string]string{"create-worker": "false"}, want: []string{"create-worker", "shop"}},

		// ---- working-directory, config, wrangler-env ------------------------------
		{name: "working-directory: does not exist", inputs: map[string]string{"working-directory": "nope"}, want: []string{"working-directory", "nope"}},
		{name: "working-directory: is a file", inputs: map[string]string{"working-directory": "dist/index.mjs"}, want: []string{"working-directory", "not a directory"}},
		{name: "config: names a missing file", inputs: map[string]string{"config": "missing.toml"}, want: []string{"config", "missing.toml"}},
		{name: "config: names a file without a known extension", inputs: map[string]string{"config": "dist"}, want: []string{"config", "dist", ".jsonc, .json or .toml"}},
		{
			name:  "config: wrangler.toml is a directory",
			setup: func(t *testing.T, ws string) { require.NoError(t, os.Mkdir(filepath.Join(ws, "wrangler.toml"), 0o755)) },
			want:  []string{"config", "wrangler.toml", "is a directory"},
		},
		{
			name: "config: unsupported file type", inputs: map[string]string{"config": "wrangler.yaml"},
			setup: func(t *testing.T, ws string) { write(t, ws, "wrangler.yaml", []byte("name: shop\n")) },
			want:  []string{"config", "wrangler.yaml", ".jsonc, .json or .toml"},
		},
		{
			name:  "config: broken JSONC",
			setup: func(t *testing.T, ws string) { write(t, ws, "wrangler.jsonc", []byte("{\n  \"name\": \"shop\",,\n}")) },
			want:  []string{"config", "wrangler.jsonc", "line 2, column"},
		},
		{
			name:  "config: broken TOML",
			setup: func(t *testing.T, ws string) { write(t, ws, "wrangler.toml", []byte("name = \"shop\nmain = 1\n")) },
			want:  []string{"config", "wrangler.toml"},
		},
		{
			name:  "config: top level not an object",
			setup: func(t *testing.T, ws string) { write(t, ws, "wrangler.json", []byte("[1, 2]")) },
			want:  []string{"config", "wrangler.json", "object"},
		},
		{
			name: "config: malformed binding",
			setup: func(t *testing.T, ws string) {
				write(t, ws, "wrangler.toml", []byte("name = \"shop\"\n[[hyperdrive]]\nbinding = \"PG\"\n"))
			},
			want: []string{"config", "wrangler.toml", "hyperdrive[0]", "`id` is required"},
		},
		{
			name: "config: KV without id and no create-resources",
			setup: func(t *testing.T, ws string) {
				write(t, ws, "wrangler.toml", []byte("name = \"shop\"\n[[kv_namespaces]]\nbinding = \"KV\"\n"))
			},
			want: []string{"create-resources", "wrangler.toml", "kv_namespaces[0]", "shop-kv"},
		},
		{
			name: "create-resources: not a boolean", inputs: map[string]string{"create-resources": "maybe"},
			want: []string{"create-resources", "true or false"},
		},
		{
			name: "config: invalid compatibility_date", inputs: map[string]string{"compatibility-date": ""},
			setup: func(t *testing.T, ws string) {
				write(t, ws, "wrangler.toml", []byte("name = \"shop\"\ncompatibility_date = \"2025-13-01\"\n"))
			},
			want: []string{"config", "compatibility_date", "2025-13-01"},
		},
		{
			name: "config: main names a missing file", inputs: map[string]string{"worker": ""},
			setup: func(t *testing.T, ws string) {
				write(t, ws, "wrangler.toml", []byte("name = \"shop\"\nmain = \"src/app.ts\"\n"))
				write(t, ws, "dist/worker.js", []byte("export default {}"))
			},
			want: []string{"main", "src/app.ts", "main-module"},
		},
		{
			name: "wrangler-env: not a name", inputs: map[string]string{"wrangler-env": "prod env!"},
			setup: func(t *testing.T, ws string) { write(t, ws, "wrangler.toml", []byte("name = \"shop\"\n[env.prod]\n")) },
			want:  []string{"wrangler-env", "prod env!"},
		},
		{
			name: "wrangler-env: not defined in the configuration", inputs: map[string]string{"wrangler-env": "staging"},
			setup: func(t *testing.T, ws string) { write(t, ws, "wrangler.toml", []byte("name = \"shop\"\n[env.prod]\n")) },
			want:  []string{"input `wrangler-env`", "wrangler.toml", "env.staging", "defines: prod"},
		},
		{name: "wrangler-env: without a configuration", inputs: map[string]string{"wrangler-env": "prod"}, want: []string{"wrangler-env", "prod", "config"}},
		{
			name: "wrangler-env: with config none", inputs: map[string]string{"wrangler-env": "prod", "config": "none"},
			setup: func(t *testing.T, ws string) { write(t, ws, "wrangler.toml", []byte("name = \"shop\"\n[env.prod]\n")) },
			want:  []string{"wrangler-env", "prod"},
		},

		// ---- modules and main-module --------------------------------------------
		{name: "modules: no module matched", inputs: map[string]string{"modules": "build/**"}, want: []string{"modules", "build/**"}, pr: true},
		{name: "modules: invalid glob", inputs: map[string]string{"modules": "dist/[a"}, want: []string{"modules", "dist/[a"}, pr: true},
		{name: "modules: glob escaping through ..", inputs: map[string]string{"modules": "../**"}, want: []string{"modules", "../**"}, pr: true},
		{name: "modules: glob escaping through .. in the middle", inputs: map[string]string{"modules": "dist/../../**"}, want: []string{"modules", "dist/../../**"}},
		{name: "modules: absolute glob", inputs: map[string]string{"modules": "/etc/**"}, want: []string{"modules", "/etc/**"}},
		{name: "modules: only excludes", inputs: map[string]string{"modules": "!dist/**"}, want: []string{"modules", "only exclude"}},
		{name: "modules: everything excluded", inputs: map[string]string{"modules": "dist/**\n!dist/**"}, want: []string{"modules", "excluded"}},
		{
			name: "modules: two globs yield the same module name", inputs: map[string]string{"modules": "dist/**, other/**"},
			setup: func(t *testing.T, ws string) { write(t, ws, "other/index.mjs", []byte("export default {}")) },
			want:  []string{"modules", "index.mjs", "both"},
		},
		{name: "main-module: not an uploaded module", inputs: map[string]string{"main-module": "nope.mjs"}, want: []string{"main-module", "nope.mjs"}, pr: true},
		{name: "main-module: not code", inputs: map[string]string{"main-module": "greeting.txt"}, want: []string{"main-module", "greeting.txt"}},
		{name: "main-module: escaping through ..", inputs: map[string]string{"main-module": "../src/index.ts"}, want: []string{"main-module", "../src/index.ts"}},
		{
			name: "main-module: ambiguous guess", fixture: "single",
			setup: func(t *testing.T, ws string) { write(t, ws, "dist/index.js", []byte("export default {}")) },
			want:  []string{"main-module", "index.js", "worker.js"},
		},

		// ---- compatibility-date and compatibility-flags -------------------------
		{name: "compatibility-date: impossible date", inputs: map[string]string{"compatibility-date": "2025-02-30"}, want: []string{"compatibility-date", "2025-02-30"}},
		{name: "compatibility-date: wrong format", inputs: map[string]string{"compatibility-date": "01/09/2025"}, want: []string{"compatibility-date", "YYYY-MM-DD"}},
		{name: "compatibility-date: in the future", inputs: map[string]string{"compatibility-date": "2999-01-01"}, want: []string{"compatibility-date", "future"}},
		{name: "compatibility-date: before 2021", inputs: map[string]string{"compatibility-date": "2020-06-01"}, want: []string{"compatibility-date", "2021"}},
		{name: "compatibility-date: missing from inputs and configuration", inputs: map[string]string{"compatibility-date": ""}, want: []string{"compatibility-date", "no compatibility date"}},
		{name: "compatibility-flags: upper case and spaces", inputs: map[string]string{"compatibility-flags": "Node Compat"}, want: []string{"compatibility-flags", "Node Compat"}},
		{name: "compatibility-flags: hyphen", inputs: map[string]string{"compatibility-flags": "nodejs_compat, nodejs-als"}, want: []string{"compatibility-flags", "nodejs-als"}},

		// ---- bindings, vars, secrets, keep-secrets --------------------------------
		{name: "bindings: malformed JSON", inputs: map[string]string{"bindings": `[{"type": "kv_namespace", "name": "KV"`}, want: []string{"bindings", "JSON or YAML"}},
		{name: "bindings: malformed YAML", inputs: map[string]string{"bindings": "- name: [KV\n  type: kv_namespace"}, want: []string{"bindings", "JSON or YAML"}},
		{name: "bindings: object instead of array", inputs: map[string]string{"bindings": `{"type": "kv_namespace", "name": "KV", "namespace_id": "x"}`}, want: []string{"bindings", "array"}},
		{name: "bindings: array item not an object", inputs: map[string]string{"bindings": `["KV"]`}, want: []string{"bindings", "bindings[0]", "object"}},
		{name: "bindings: duplicate name", inputs: map[string]string{"bindings": `[{"type":"plain_text","name":"A","text":"1"},{"type":"plain_text","name":"A","text":"2"}]`}, want: []string{"bindings", `"A"`, "twice"}},
		{name: "bindings: invalid name", inputs: map[string]string{"bindings": `[{"type":"plain_text","name":"1-A","text":"1"}]`}, want: []string{"bindings", "1-A"}},
		{name: "bindings: no name", inputs: map[string]string{"bindings": `[{"type":"plain_text","text":"1"}]`}, want: []string{"bindings", "no name"}},
		{name: "bindings: no type", inputs: map[string]string{"bindings": `[{"name":"A","text":"1"}]`}, want: []string{"bindings", "no `type`"}},
		{name: "bindings: inherit", inputs: map[string]string{"bindings": `[{"type":"inherit","name":"A"}]`}, want: []string{"bindings", "keep-secrets"}},
		{name: "bindings: same name as a var", inputs: map[string]string{"bindings": `[{"type":"plain_text","name":"A","text":"1"}]`, "vars": "A=2"}, want: []string{"input `vars`", "input `bindings`", `"A"`}, pr: true},
		{name: "vars: malformed YAML", inputs: map[string]string{"vars": "A: [1\nB: 2"}, want: []string{"vars", "KEY=value"}},
		{name: "vars: a list, not a map", inputs: map[string]string{"vars": "- A\n- B"}, want: []string{"vars", "YAML map"}},
		{name: "vars: structured value", inputs: map[string]string{"vars": "A: [1, 2]"}, want: []string{"vars", `"A"`, "string"}},
		{name: "vars: invalid name", inputs: map[string]string{"vars": "API-BASE=https://x"}, want: []string{"vars", "line 1", `"API-BASE"`, "not a valid var name"}},
		{name: "vars: duplicate name", inputs: map[string]string{"vars": "A=1\nA=2"}, want: []string{"vars", "twice"}},
		{name: "secrets: unset variable", inputs: map[string]string{"secrets": "STRIPE_KEY"}, want: []string{"secrets", "STRIPE_KEY", "unset"}},
		{
			name: "secrets: a value pasted instead of a name", inputs: map[string]string{"secrets": "sk_live_not a name"},
			want: []string{"secrets", "entry 1", "names, not values"}, secret: "sk_live_not a name",
		},
		{name: "secrets: listed twice", inputs: map[string]string{"secrets": "KEY\nKEY"}, env: map[string]string{"KEY": "s3cr3t-value"}, want: []string{"secrets", "KEY", "twice"}, secret: "s3cr3t-value"},
		{
			name: "secrets: same name as a var", inputs: map[string]string{"secrets": "KEY", "vars": "KEY=plain"}, env: map[string]string{"KEY": "s3cr3t-value"},
			want: []string{"input `secrets`", `"KEY"`, "input `vars`"}, secret: "s3cr3t-value",
		},
		{name: "keep-secrets: not a boolean", inputs: map[string]string{"keep-secrets": "nah"}, want: []string{"keep-secrets", "true or false"}},

		// ---- tag, message ----------------------------------------------------------
		{name: "tag: over 100 bytes", inputs: map[string]string{"tag": strings.Repeat("t", 101)}, want: []string{"tag", "100"}},
		{name: "tag: two lines", inputs: map[string]string{"tag": "v1\nv2"}, want: []string{"tag", "one line"}},

		// ---- deploy, stages, gates -------------------------------------------------
		{name: "deploy: not a boolean", inputs: map[string]string{"deploy": "yes"}, want: []string{"deploy", "true or false"}},
		{name: "stages: staged without deploy", inputs: map[string]string{"stages": "10%@1m, 100%"}, want: []string{"stages", "deploy"}},
		{name: "stages: empty", inputs: map[string]string{"deploy": "true", "stages": ", ,"}, want: []string{"stages", "no stages"}},
		{name: "stages: not ending at 100%", inputs: map[string]string{"deploy": "true", "stages": "10%, 50%"}, want: []string{"stages", "100"}},
		{name: "stages: not increasing", inputs: map[string]string{"deploy": "true", "stages": "50%, 10%, 100%"}, want: []string{"stages", "10%"}},
		{name: "stages: repeated percentage", inputs: map[string]string{"deploy": "true", "stages": "50%, 50%, 100%"}, want: []string{"stages", "50%"}},
		{name: "stages: over 100%", inputs: map[string]string{"deploy": "true", "stages": "150%"}, want: []string{"stages", "150%"}},
		{name: "stages: not a number", inputs: map[string]string{"deploy": "true", "stages": "abc"}, want: []string{"stages", "abc"}},
		{name: "stages: bad hold", inputs: map[string]string{"deploy": "true", "stages": "10%@banana, 100%"}, want: []string{"stages", "banana"}},
		{name: "stages: negative hold", inputs: map[string]string{"deploy": "true", "stages": "10%@-1m, 100%"}, want: []string{"stages", "-1m"}},
		{name: "stages: 100% before the end", inputs: map[string]string{"deploy": "true", "stages": "100%, 100%"}, want: []string{"stages", "100%"}},
		{name: "stages: more than 20", inputs: map[string]string{"deploy": "true", "stages": manyStages()}, want: []string{"stages", "21 stages", "20"}},
		{name: "stages: over 3 decimals", inputs: map[string]string{"deploy": "true", "stages": "10.0001%, 100%"}, want: []string{"stages", "10.0001%", "decimals"}},
		{name: "stages: too little left to the previous version", inputs: map[string]string{"deploy": "true", "stages": "99.999%, 100%"}, want: []string{"stages", "99.999%"}},
		{name: "stages: zero percent", inputs: map[string]string{"deploy": "true", "stages": "0%, 100%"}, want: []string{"stages", "0%"}},
		{name: "health-check-url: plain http to a remote host", inputs: staged(map[string]string{"health-check-url": "http://example.com"}), want: []string{"health-check-url", "example.com", "https"}},
		{name: "health-check-url: garbage", inputs: staged(map[string]string{"health-check-url": "healthz"}), want: []string{"health-check-url", "healthz"}},
		{name: "health-check-url: unsupported scheme", inputs: staged(map[string]string{"health-check-url": "ftp://example.com/healthz"}), want: []string{"health-check-url", "ftp"}},
		{name: "health-check-url: credentials in the URL", inputs: staged(map[string]string{"health-check-url": "https://u:p@example.com/healthz"}), want: []string{"health-check-url", "password"}},
		{name: "health-check-url: without deploy", inputs: map[string]string{"health-check-url": "https://example.com/healthz"}, want: []string{"health-check-url", "deploy"}},
		{name: "health-check-url: without a held stage", inputs: map[string]string{"deploy": "true", "health-check-url": "https://example.com/healthz"}, want: []string{"health-check-url", "hold"}},
		{name: "health-check-interval: zero", inputs: staged(map[string]string{"health-check-interval": "0s"}), want: []string{"health-check-interval", "0s"}},
		{name: "health-check-interval: not a duration", inputs: staged(map[string]string{"health-check-interval": "banana"}), want: []string{"health-check-interval", "banana"}},
		{name: "health-check-interval: negative", inputs: staged(map[string]string{"health-check-interval": "-5s"}), want: []string{"health-check-interval", "-5s"}},
		{name: "health-check-interval: number without a unit", inputs: staged(map[string]string{"health-check-interval": "10"}), want: []string{"health-check-interval", "10"}},
		{name: "max-error-rate: over 100%", inputs: staged(map[string]string{"max-error-rate": "150%"}), want: []string{"max-error-rate", "150%"}},
		{name: "max-error-rate: not a number", inputs: staged(map[string]string{"max-error-rate": "abc"}), want: []string{"max-error-rate", "abc"}},
		{name: "max-error-rate: negative", inputs: staged(map[string]string{"max-error-rate": "-1%"}), want: []string{"max-error-rate", "-1%"}},
		{name: "max-error-rate: two percent signs", inputs: staged(map[string]string{"max-error-rate": "1%%"}), want: []string{"max-error-rate", "1%%"}},
		{name: "max-error-rate: without deploy", inputs: map[string]string{"max-error-rate": "1%"}, want: []string{"max-error-rate", "deploy"}},
		{name: "max-error-rate: without a held stage", inputs: map[string]string{"deploy": "true", "max-error-rate": "1%"}, want: []string{"max-error-rate", "hold"}},
		{name: "min-requests: negative", inputs: staged(map[string]string{"max-error-rate": "1%", "min-requests": "-1"}), want: []string{"min-requests", "-1"}},
		{name: "min-requests: not a whole number", inputs: staged(map[string]string{"max-error-rate": "1%", "min-requests": "1.5"}), want: []string{"min-requests", "1.5"}},
		{name: "min-requests: not a number", inputs: staged(map[string]string{"max-error-rate": "1%", "min-requests": "many"}), want: []string{"min-requests", "many"}},
		{name: "no-data: unknown policy", inputs: staged(map[string]string{"max-error-rate": "1%", "no-data": "maybe"}), want: []string{"no-data", "maybe"}},
		{name: "rollback: not a boolean", inputs: map[string]string{"rollback": "sometimes"}, want: []string{"rollback", "true or false"}},

		// ---- version-id ----------------------------------------------------------
		{name: "version-id: without deploy", inputs: map[string]string{"version-id": "0123abcd"}, want: []string{"version-id", "deploy"}},
		{name: "version-id: two words", inputs: map[string]string{"deploy": "true", "version-id": "v1 v2"}, want: []string{"version-id", "v1 v2"}},
		{name: "version-id: over 100 bytes", inputs: map[string]string{"deploy": "true", "version-id": strings.Repeat("v", 101)}, want: []string{"version-id", "100"}},
		{name: "version-id: prefix under 8 characters", seed: true, inputs: map[string]string{"deploy": "true", "version-id": "0123abc"}, want: []string{"version-id", "0123abc", "8 characters"}},
		{name: "version-id: matches nothing", seed: true, inputs: map[string]string{"deploy": "true", "version-id": "no-such-tag"}, want: []string{"version-id", "no-such-tag"}},
		{
			// The 8-character prefix of one version's ID is another version's tag.
			name: "version-id: ambiguous", seed: true,
			prepare: func(t *testing.T, cf *emulated, ws string) map[string]string {
				ids := []string{}
				assert.Len(t, cf.Versions("shop"), 1, "only the seeded version exists")
				for _, v := range cf.Versions("shop") {
					ids = append(ids, v.ID)
				}
				require.Len(t, ids, 1)
				write(t, ws, "dist/extra.txt", []byte("second version"))
				r := pushJob(t, cf, ws, map[string]string{"tag": ids[0][:8]}).run(t, ctxFor(t))
				require.Equal(t, 0, r.Code, r.Stdout)
				require.NoError(t, os.Remove(filepath.Join(ws, "dist", "extra.txt")))
				return map[string]string{"deploy": "true", "version-id": ids[0][:8]}
			},
			want: []string{"version-id", "ambiguous", "2 versions"},
		},
		{name: "version-id: Worker does not exist", inputs: map[string]string{"deploy": "true", "version-id": "0123abcd"}, want: []string{"worker", "shop", "0123abcd"}},

		// ---- GitHub reporting ----------------------------------------------------
		{name: "comment: not a boolean", inputs: map[string]string{"comment": "maybe"}, want: []string{"comment", "true or false"}},
		{name: "github-deployment: not a boolean", inputs: map[string]string{"github-deployment": "1"}, want: []string{"github-deployment", "true or false"}},
		{name: "github-environment: control character", inputs: map[string]string{"github-environment": "prod\x07uction"}, want: []string{"github-environment", "control character"}},
		{name: "github-environment: line break", inputs: map[string]string{"github-environment": "prod\nuction"}, want: []string{"github-environment", "line break"}},
		{name: "github-environment: over 255 characters", inputs: map[string]string{"github-environment": strings.Repeat("e", 256)}, want: []string{"github-environment", "255"}},

		// ---- assets-directory, dry-run -------------------------------------------
		{name: "assets-directory: does not exist", inputs: map[string]string{"assets-directory": "public"}, want: []string{"assets-directory", "public"}, pr: true},
		{name: "upload-source-maps: not a boolean", inputs: map[string]string{"upload-source-maps": "yes"}, want: []string{"upload-source-maps", "not a boolean"}},
		{name: "bundle: unknown mode", inputs: map[string]string{"bundle": "esbuild"}, want: []string{"bundle", `"esbuild" is not a bundle mode: use auto, true or false`}},
		{
			name: "bundle: false on a TypeScript entry", inputs: map[string]string{"worker": "", "modules": "", "bundle": "false"},
			setup: func(t *testing.T, ws string) {
				write(t, ws, "wrangler.toml", []byte("name = \"shop\"\nmain = \"src/index.ts\"\n"))
				write(t, ws, "src/index.ts", []byte("export default { fetch: (): Response => new Response('ts') };\n"))
				require.NoError(t, os.RemoveAll(filepath.Join(ws, "dist")))
			},
			want: []string{"bundle", `"src/index.ts" is a source file`, "remove `bundle: false`"},
		},
		{
			name: "bundle: an import that cannot be resolved", inputs: map[string]string{"worker": "", "modules": ""},
			setup: func(t *testing.T, ws string) {
				write(t, ws, "wrangler.toml", []byte("name = \"shop\"\nmain = \"src/index.ts\"\n"))
				write(t, ws, "src/index.ts", []byte("import { Hono } from 'hono';\nexport default new Hono();\n"))
			},
			want: []string{"bundle", `src/index.ts:1:22: Could not resolve "hono"`, "npm ci"},
		},
		{name: "assets-directory: is a file", inputs: map[string]string{"assets-directory": "dist/index.mjs"}, want: []string{"assets-directory", "index.mjs"}},
		{
			name: "assets-directory: from the configuration, missing", inputs: map[string]string{"worker": ""},
			setup: func(t *testing.T, ws string) {
				write(t, ws, "wrangler.toml", []byte("name = \"shop\"\n[assets]\ndirectory = \"./public\"\n"))
			},
			want: []string{"config", "public"},
		},
		{
			name: "assets: binding without a directory",
			setup: func(t *testing.T, ws string) {
				write(t, ws, "wrangler.toml", []byte("name = \"shop\"\n[assets]\nbinding = \"ASSETS\"\n"))
			},
			want: []string{"config", "assets.directory"},
		},
		{
			name: "assets-directory: symlink out of the directory", inputs: map[string]string{"assets-directory": "public"},
			setup: func(t *testing.T, ws string) {
				write(t, ws, "public/index.html", []byte("<p>hi</p>"))
				outside := filepath.Join(t.TempDir(), "id_rsa")
				require.NoError(t, os.WriteFile(outside, []byte("private"), 0o600))
				require.NoError(t, os.Symlink(outside, filepath.Join(ws, "public", "key.txt")))
			},
			want: []string{"assets-directory", "key.txt", "outside the assets directory"},
		},
		{
			name: "assets-directory: symlink loop", inputs: map[string]string{"assets-directory": "public"},
			setup: func(t *testing.T, ws string) {
				write(t, ws, "public/index.html", []byte("<p>hi</p>"))
				require.NoError(t, os.Symlink("b.html", filepath.Join(ws, "public", "a.html")))
				require.NoError(t, os.Symlink("a.html", filepath.Join(ws, "public", "b.html")))
			},
			want: []string{"assets-directory", ".html"},
		},
		{
			name: "assets-directory: file of 25 MiB", inputs: map[string]string{"assets-directory": "public"},
			setup: func(t *testing.T, ws string) {
				write(t, ws, "public/index.html", []byte("<p>hi</p>"))
				f, err := os.Create(filepath.Join(ws, "public", "video.mp4"))
				require.NoError(t, err)
				require.NoError(t, f.Truncate(25<<20)) // sparse: costs no disk
				require.NoError(t, f.Close())
			},
			want: []string{"assets-directory", "video.mp4", "25 MiB"},
		},
		{name: "preview: unknown mode", inputs: map[string]string{"preview": "branches"}, want: []string{"preview", "auto, previews or versions"}},
		{name: "preview-name: invalid", inputs: map[string]string{"preview-name": "-feature"}, want: []string{"preview-name", "not a Preview name"}},
		{name: "preview-name: with deploy", inputs: map[string]string{"preview-name": "feature", "deploy": "true"}, want: []string{"preview-name", "deploy: true"}},
		{name: "delete-preview: not a boolean", inputs: map[string]string{"delete-preview": "sometimes"}, want: []string{"delete-preview", "true or false"}},
		{name: "dry-run: not a boolean", inputs: map[string]string{"dry-run": "perhaps"}, want: []string{"dry-run", "true or false"}},
		{name: "json: not a boolean", inputs: map[string]string{"json": "yes"}, want: []string{"json", "true or false"}},
		{name: "dry-run: offline plan with an invalid glob", inputs: map[string]string{"dry-run": "true", "api-token": "", "account-id": "", "modules": "dist/[a"}, want: []string{"modules", "dist/[a"}},
		{name: "dry-run: bad input is still an error", inputs: map[string]string{"dry-run": "true", "modules": "build/**"}, want: []string{"modules", "build/**"}},

		// ---- hostile files -----------------------------------------------------------
		{
			name: "files: symlink escaping the working directory",
			setup: func(t *testing.T, ws string) {
				outside := filepath.Join(t.TempDir(), "secret.js")
				require.NoError(t, os.WriteFile(outside, []byte("export default {}"), 0o644))
				require.NoError(t, os.Symlink(outside, filepath.Join(ws, "dist", "evil.js")))
			},
			want: []string{"dist/evil.js", "escapes the working directory"}, pr: true,
		},
		{
			name: "files: glob base is a symlink out of the working directory",
			setup: func(t *testing.T, ws string) {
				outside := t.TempDir()
				write(t, outside, "index.mjs", []byte("export default {}"))
				require.NoError(t, os.RemoveAll(filepath.Join(ws, "dist")))
				require.NoError(t, os.Symlink(outside, filepath.Join(ws, "dist")))
			},
			want: []string{"modules", "dist", "escapes the working directory"},
		},
		{
			name:   "files: literal pattern through a symlinked directory out of the working directory",
			inputs: map[string]string{"modules": "dist/**, ext/lib.mjs"},
			setup: func(t *testing.T, ws string) {
				outside := t.TempDir()
				write(t, outside, "lib.mjs", []byte("export const x = 1"))
				require.NoError(t, os.Symlink(outside, filepath.Join(ws, "ext")))
			},
			want: []string{"ext/lib.mjs", "escapes the working directory"},
		},
		{
			name: "files: symlink loop",
			setup: func(t *testing.T, ws string) {
				require.NoError(t, os.Symlink("b.js", filepath.Join(ws, "dist", "a.js")))
				require.NoError(t, os.Symlink("a.js", filepath.Join(ws, "dist", "b.js")))
			},
			want: []string{"dist/a.js", "symlink loop"},
		},
		{
			name: "files: broken symlink",
			setup: func(t *testing.T, ws string) {
				require.NoError(t, os.Symlink("missing.js", filepath.Join(ws, "dist", "gone.js")))
			},
			want: []string{"dist/gone.js", "broken symlink"},
		},
		{
			// Tests run as root, so chmod 000 would not stop a read: a FIFO
			// cannot be read as a module (and would block a naive reader).
			name: "files: unreadable (a FIFO)",
			setup: func(t *testing.T, ws string) {
				require.NoError(t, syscall.Mkfifo(filepath.Join(ws, "dist", "pipe.js"), 0o644))
			},
			want: []string{"dist/pipe.js", "not a regular file"},
		},
		{
			name:   "files: literal pattern names a directory",
			inputs: map[string]string{"modules": "dist/**, dist/lib"},
			want:   []string{"modules", "dist/lib", "directory"},
		},
		{
			name: "files: unreadable directory below the glob base (a dangling walk)",
			setup: func(t *testing.T, ws string) {
				// A directory named like a module: matched by **/*.mjs, not a file.
				require.NoError(t, os.MkdirAll(filepath.Join(ws, "dist", "dir.mjs"), 0o755))
				require.NoError(t, os.Symlink("dir.mjs", filepath.Join(ws, "dist", "link.mjs")))
			},
			inputs: map[string]string{"modules": "dist/**, dist/link.mjs"},
			want:   []string{"dist/link.mjs", "directory"},
		},
		{
			name:  "files: 0-byte module",
			setup: func(t *testing.T, ws string) { write(t, ws, "dist/empty.mjs", nil) },
			want:  []string{"dist/empty.mjs", "0 bytes", "modules"}, pr: true,
		},
		{
			// The module is rewritten after it was collected and hashed, while
			// the Worker lookup is held for a second: the upload re-reads it.
			name: "files: module changed while the run reads it", seed: true,
			prepare: func(t *testing.T, cf *emulated, ws string) map[string]string {
				cf.InjectFault(emulator.Fault{Method: "GET", Path: "/accounts/*/workers/workers/*", Times: 1, Kind: emulator.FaultLatency, Latency: time.Second})
				done := make(chan struct{})
				go func() {
					defer close(done)
					deadline := time.Now().Add(30 * time.Second)
					for time.Now().Before(deadline) {
						for _, r := range cf.Requests() {
							// Recorded on arrival with Status 0: held by the fault.
							if r.Method == "GET" && strings.HasSuffix(r.Path, "/workers/workers/shop") && r.Status == 0 {
								// assert, not require: this is not the test's goroutine.
								assert.NoError(t, os.WriteFile(filepath.Join(ws, "dist", "lib", "util.mjs"), []byte("export const changed = true;\n"), 0o644))
								return
							}
						}
						time.Sleep(5 * time.Millisecond)
					}
					t.Errorf("the held Worker lookup never arrived: the module was not changed")
				}()
				t.Cleanup(func() { <-done })
				return map[string]string{"tag": "changing"}
			},
			want: []string{"dist/lib/util.mjs", "changed on disk", "29 bytes instead of 125"},
		},
		{
			// A glob skips such a file (finding 1); naming it without wildcards is an error.
			name:   "files: a file no module rule matches, named without wildcards",
			inputs: map[string]string{"modules": "dist/**, dist/README.md"},
			setup:  func(t *testing.T, ws string) { write(t, ws, "dist/README.md", []byte("# hi")) },
			want:   []string{"dist/README.md", "no module rule"},
		},
		{
			name: "files: bundle over 10 MiB compressed",
			setup: func(t *testing.T, ws string) {
				b := make([]byte, 11<<20)
				_, _ = rand.Read(b)
				write(t, ws, "dist/big.bin", b)
			},
			want: []string{"modules", "MiB", "10"},
		},
	}
	// Every input has rows (named "<input>: …"), except those
	// with no invalid form.
	noInvalidForm := map[string]string{
		"message":      "any text is a message; it is cut to 1000 bytes at a UTF-8 boundary",
		"github-token": "empty or refused tokens only turn GitHub reporting into a warning",
	}
	covered := map[string]bool{}
	for _, tc := range cases {
		name, _, _ := strings.Cut(tc.name, ":")
		covered[name] = true
	}
	require.NotEmpty(t, inputs.Names(), "the coverage check needs the list of inputs")
	for _, name := range inputs.Names() {
		if _, ok := noInvalidForm[name]; !ok {
			assert.True(t, covered[name], "no bad-input row for input %q", name)
		}
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runBadRow(t, tc)
		})
	}
}

// runBadRow runs one row against a fresh emulator and GitHub stand-in.
func runBadRow(t *testing.T, tc badRow) {
	t.Helper()
	cf := newEmulated(t)
	gh := newGitHub(t)
	fixture := tc.fixture
	if fixture == "" {
		fixture = "esm-multi"
	}
	ws := workspace(t, fixture)
	// Every row reports to GitHub as much as it can: a bad input must still
	// write nothing there.
	in := map[string]string{"github-deployment": "true", "comment": "true"}
	if tc.seed {
		seedBaseline(t, cf, ws)
	}
	if tc.prepare != nil {
		for k, v := range tc.prepare(t, cf, ws) {
			in[k] = v
		}
	}
	cf.ResetRequests()
	if tc.setup != nil {
		tc.setup(t, ws)
	}
	for k, v := range tc.inputs {
		in[k] = v
	}
	var j job
	if tc.pr {
		j = prJob(t, cf, gh, ws, "pull_request.00.opened.json", in)
	} else {
		j = pushJob(t, cf, ws, in)
		j.Env["GITHUB_API_URL"] = gh.URL
	}
	for k, v := range tc.env {
		j.Env[k] = v
	}
	j.Args = tc.args
	r := j.run(t, ctxFor(t))

	assert.Equal(t, 1, r.Code, r.Stdout)
	errs := r.errors()
	require.Len(t, errs, 1, "exactly one ::error:: annotation:\n%s", r.Stdout)
	msg := errs[0]
	t.Log(msg)
	for _, w := range tc.want {
		assert.Contains(t, msg, w)
	}
	assert.Empty(t, cf.Writes(), "no write request may be sent to Cloudflare")
	for _, call := range gh.requests() {
		assert.True(t, strings.HasPrefix(call, "GET "), "no write request may be sent to GitHub: %s", call)
	}
	assertNoSecrets(t, r)
	if tc.secret != "" {
		for _, l := range strings.Split(r.Stdout, "\n") {
			if !strings.HasPrefix(l, "::add-mask::") {
				assert.NotContains(t, l, tc.secret)
			}
		}
		assert.NotContains(t, r.Summary, tc.secret)
	}
}

// manyStages is a valid-looking list of 21 stages (the limit is 20).
func manyStages() string {
	var parts []string
	for i := 1; i <= 20; i++ {
		parts = append(parts, fmt.Sprintf("%d%%", i*4))
	}
	return strings.Join(append(parts, "100%"), ", ")
}

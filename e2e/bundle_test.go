package e2e

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sourceWorkspace is a Worker project with no build step: TypeScript, a package in node_modules
// and a .wasm import, configured only by wrangler.toml.
func sourceWorkspace(t *testing.T) string {
	t.Helper()
	ws := t.TempDir()
	write(t, ws, "wrangler.toml", []byte("name = \"from-source\"\nmain = \"src/index.ts\"\ncompatibility_date = \"2025-09-01\"\ncompatibility_flags = [\"nodejs_compat\"]\n"))
	write(t, ws, "src/index.ts", []byte("import { Buffer } from \"node:buffer\";\nimport mod from \"./add.wasm\";\nimport { greet } from \"greeter\";\n"+
		"export default { fetch: (): Response => new Response(greet(Buffer.from(String(mod)).toString(\"hex\"))) };\n"))
	write(t, ws, "src/add.wasm", []byte("\x00asm\x01\x00\x00\x00"))
	write(t, ws, "node_modules/greeter/package.json", []byte(`{"name":"greeter","type":"module","exports":{"workerd":"./workerd.js","default":"./node.js"}}`))
	write(t, ws, "node_modules/greeter/workerd.js", []byte("export const greet = (s) => `hello ${s} from workerd`;\n"))
	write(t, ws, "node_modules/greeter/node.js", []byte("export const greet = () => 'wrong export condition';\n"))
	return ws
}

// A TypeScript project deploys with only the credentials and deploy: true (the runner passes
// the other inputs' action.yml defaults, and `modules` has none).
func TestBundleFromSourceDeploys(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := sourceWorkspace(t)
	r := pushJob(t, cf, ws, map[string]string{"worker": "", "compatibility-date": "", "modules": "", "bundle": "auto", "deploy": "true"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Contains(t, r.Stdout, "Bundled src/index.ts with esbuild into index.js because the entry src/index.ts is a source file")
	vs := cf.Versions("from-source")
	require.Len(t, vs, 1)
	v := vs[0]
	assert.Equal(t, "index.js", v.MainModule)
	names := map[string]string{}
	var main string
	for _, m := range v.Modules {
		names[m.Name] = m.ContentType
		if m.Name == "index.js" {
			main = string(m.Content)
		}
	}
	assert.Equal(t, map[string]string{
		"index.js": "application/javascript+module",
		"c6006650182737e2b09bada7fc0774812b802917-add.wasm": "application/wasm",
	}, names)
	assert.Contains(t, main, `from "node:buffer";`)
	assert.Contains(t, main, `import mod from "./c6006650182737e2b09bada7fc0774812b802917-add.wasm";`)
	assert.Contains(t, main, "from workerd")
	assert.NotContains(t, main, "wrong export condition")
	assert.Equal(t, "100", r.Outputs["deployed-percentage"])

	// The same commit again reuses the version: the bundle is part of the content digest.
	r = pushJob(t, cf, ws, map[string]string{"worker": "", "compatibility-date": "", "modules": "", "bundle": "auto"}).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	assert.Equal(t, "true", r.Outputs["version-reused"])
}

func TestBundleFalseOnSourceIsAClearError(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := sourceWorkspace(t)
	r := pushJob(t, cf, ws, map[string]string{"worker": "", "compatibility-date": "", "modules": "", "bundle": "false"}).exec(t, ctxFor(t))
	require.Equal(t, 1, r.Code, r.Stdout)
	require.Len(t, r.errors(), 1, r.Stdout)
	assert.Contains(t, r.errorTexts()[0], "input `bundle`: the entry \"src/index.ts\" is a source file that must be bundled")
	assert.Contains(t, r.errorTexts()[0], "or let the action bundle it as wrangler does: remove `bundle: false`")
	assert.Empty(t, cf.Writes(), "nothing written")
}

// SvelteKit's adapter output, once `npm ci` installed its packages (small stand-ins here, with
// the package.json shapes of the real ones), deploys with natural inputs: _worker.js is bundled
// with the server code outside its folder and the packages, as `wrangler deploy` bundles it.
func TestBundleSvelteKitWithPackagesDeploys(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	ws := frameworkWorkspace(t, "sveltekit")
	pkg := func(name, exports, file, code string) {
		write(t, ws, "node_modules/"+name+"/package.json", []byte(`{"name":"`+name+`","type":"module","exports":`+exports+`}`))
		write(t, ws, "node_modules/"+name+"/"+file, []byte(code))
	}
	pkg("worktop", `{"./cfw.cache":{"import":"./cfw.cache/index.mjs"}}`, "cfw.cache/index.mjs", "export const lookup = () => null;\n")
	pkg("@sveltejs/kit", `{".":{"types":"./types/index.d.ts","import":"./src/exports/index.js"},"./internal":{"import":"./src/exports/internal/index.js"}}`,
		"src/exports/index.js", "export const json = (v) => Response.json(v); export const text = (v) => new Response(v);\n")
	write(t, ws, "node_modules/@sveltejs/kit/src/exports/internal/index.js", []byte("export class HttpError {} export class Redirect {}\n"))
	pkg("devalue", `{".":{"types":"./types/index.d.ts","import":"./index.js","default":"./index.js"}}`, "index.js", "export const stringify = JSON.stringify;\n")
	pkg("cookie", `{".":"./index.js"}`, "index.js", "export const parse = () => ({}); export const serialize = () => '';\n")

	r, v := deployed(t, cf, ws, "sveltekit-app")
	assert.Contains(t, r.Stdout, "Bundled .svelte-kit/cloudflare/_worker.js with esbuild into _worker.js because module \"_worker.js\" imports \"./../output/server/index.js\", outside the uploaded folder")
	assert.Equal(t, "_worker.js", v.MainModule)
	assert.Equal(t, map[string]string{"_worker.js": "application/javascript+module", "_headers": "text/plain"}, moduleTypes(v))
	var main string
	for _, m := range v.Modules {
		if m.Name == "_worker.js" {
			main = string(m.Content)
		}
	}
	for _, want := range []string{"node_modules/@sveltejs/kit/src/exports/index.js", "node_modules/worktop/cfw.cache/index.mjs", ".svelte-kit/output/server/index.js", ".svelte-kit/cloudflare-tmp/manifest.js"} {
		assert.Contains(t, main, "// "+want, "bundled: %s", want)
	}
}

// TestBundleNodeCompatByDate: from compatibility date 2026-08-04 workerd turns Node.js
// compatibility on without the nodejs_compat flag, as a project created today has it; the
// bundle and the import check follow the date, and no_nodejs_compat turns it off again.
func TestBundleNodeCompatByDate(t *testing.T) {
	t.Parallel()
	const src = "import { Buffer } from \"node:buffer\";\nimport { EventEmitter } from \"events\";\n" +
		"export default { fetch: (): Response => { const e = new EventEmitter(); let s = \"\"; e.on(\"x\", (v: string) => (s = v)); e.emit(\"x\", Buffer.from(\"hi\").toString(\"hex\")); return new Response(s); } };\n"
	const built = "import { Buffer } from \"node:buffer\";\nimport { EventEmitter } from \"events\";\nexport default { fetch: () => new Response(String(new EventEmitter()) + Buffer.from(\"hi\").toString(\"hex\")) };\n"
	for _, tc := range []struct {
		name, date, flags string
		built             bool   // a built entry (dist/index.js), uploaded unbundled
		wantErr           string // empty: deploys with node:buffer and node:events external
	}{
		{name: "date enables it", date: "2026-11-01"},
		{name: "the day it became the default", date: "2026-08-04"},
		{name: "the day before, no flag", date: "2026-08-03", wantErr: "nodejs_compat"},
		{name: "opted out", date: "2026-11-01", flags: `"no_nodejs_compat", "no_nodejs_compat_v2"`, wantErr: "nodejs_compat"},
		{name: "built entry, date enables it", date: "2026-11-01", built: true},
		{name: "built entry, the day before", date: "2026-08-03", built: true, wantErr: "2026-08-04"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			ws := t.TempDir()
			main := "src/index.ts"
			if tc.built {
				main = "dist/index.js"
				write(t, ws, main, []byte(built))
			} else {
				write(t, ws, main, []byte(src))
			}
			write(t, ws, "wrangler.toml", []byte("name = \"node-by-date\"\nmain = \""+main+"\"\ncompatibility_date = \""+tc.date+"\"\ncompatibility_flags = ["+tc.flags+"]\n"))
			r := pushJob(t, cf, ws, map[string]string{"worker": "", "compatibility-date": "", "modules": "", "bundle": "auto", "deploy": "true"}).exec(t, ctxFor(t))
			if tc.wantErr != "" {
				require.NotEqual(t, 0, r.Code, r.Stdout)
				assert.Contains(t, r.Stdout, tc.wantErr)
				assert.Empty(t, cf.Writes(), "refused before any write")
				return
			}
			require.Equal(t, 0, r.Code, r.Stdout)
			vs := cf.Versions("node-by-date")
			require.Len(t, vs, 1)
			require.Len(t, vs[0].Modules, 1)
			code := string(vs[0].Modules[0].Content)
			assert.Contains(t, code, `from "node:buffer"`)
			if tc.built {
				assert.Equal(t, built, code, "a built entry is uploaded as it is")
				return
			}
			assert.Contains(t, code, `from "node:events"`)
		})
	}
}

// TestBundlePreviewDefine: a Preview is bundled with the previews block's `define` only (the
// top level's is not inherited, as wrangler bundles a Preview); production keeps its own.
func TestBundlePreviewDefine(t *testing.T) {
	t.Parallel()
	cf := newCloudflare(t)
	gh := newFakeGitHub(t)
	ws := t.TempDir()
	write(t, ws, "wrangler.jsonc", []byte(`{
  "name": "shop",
  "main": "src/index.ts",
  "compatibility_date": "2025-09-01",
  "define": {"__STAGE__": "\"production\""},
  "previews": {"define": {"__STAGE__": "\"preview\""}}
}`))
	write(t, ws, "src/index.ts", []byte("declare const __STAGE__: string;\nexport default { fetch: (): Response => new Response(__STAGE__) };\n"))
	in := map[string]string{"worker": "", "compatibility-date": "", "modules": "", "bundle": "auto"}

	r := pushJob(t, cf, ws, withInputs(in, map[string]string{"deploy": "true"})).exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	vs := cf.Versions("shop")
	require.Len(t, vs, 1)
	assert.Contains(t, string(vs[0].Modules[0].Content), `"production"`)

	j := prJob(t, cf, gh, ws, "pull_request.00.opened.json", withInputs(in, map[string]string{"comment": "false"}))
	r = j.exec(t, ctxFor(t))
	require.Equal(t, 0, r.Code, r.Stdout)
	ps := cf.Previews("shop")
	require.Len(t, ps, 1)
	code := string(ps[0].Deployments[0].Modules[0].Content)
	assert.Contains(t, code, `"preview"`)
	assert.NotContains(t, code, `"production"`)
}

// TestBundleKeepsNativeProcessWarns: a bundle whose code tells Node.js by `process`'s type
// tag, where workerd gives the Worker its own `process` and the project has no unenv preset
// to swap in (wrangler's bundle would), deploys with a warning that says what to install.
func TestBundleKeepsNativeProcessWarns(t *testing.T) {
	t.Parallel()
	const src = "const isNode = typeof process !== \"undefined\" && Object.prototype.toString.call(process) === \"[object process]\";\n" +
		"export default { fetch: (): Response => new Response(isNode ? \"node\" : \"worker\") };\n"
	for _, tc := range []struct {
		name, date string
		warns      bool
	}{
		{name: "workerd's own process", date: "2025-11-30", warns: true},
		{name: "before process v2", date: "2025-09-01"},
		{name: "iterable bodies: the preset keeps workerd's process too", date: "2026-03-01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cf := newCloudflare(t)
			ws := t.TempDir()
			write(t, ws, "wrangler.toml", []byte("name = \"proc\"\nmain = \"src/index.ts\"\ncompatibility_date = \""+tc.date+"\"\ncompatibility_flags = [\"nodejs_compat\"]\n"))
			write(t, ws, "src/index.ts", []byte(src))
			r := pushJob(t, cf, ws, map[string]string{"worker": "", "compatibility-date": "", "modules": "", "bundle": "auto", "deploy": "true"}).exec(t, ctxFor(t))
			require.Equal(t, 0, r.Code, r.Stdout)
			w := strings.Join(warnings(r), "\n")
			if tc.warns {
				assert.Contains(t, w, "@cloudflare/unenv-preset and unenv are not installed")
				assert.Contains(t, w, "disable_nodejs_process_v2")
			} else {
				assert.NotContains(t, w, "[object process]")
			}
		})
	}
}

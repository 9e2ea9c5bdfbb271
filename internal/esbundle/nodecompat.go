package esbundle

import (
	"slices"
	"strings"
)

// NodeCompatMode is how Node.js built-in modules are treated, derived from the compatibility
// date and flags as workerd and wrangler derive it.
type NodeCompatMode string

// Node.js compatibility modes.
const (
	// NodeCompatNone: no Node.js compatibility flag; `node:*` imports are left external, and
	// workerd refuses them at startup.
	NodeCompatNone NodeCompatMode = "none"
	// NodeCompatALS: only node:async_hooks (nodejs_als).
	NodeCompatALS NodeCompatMode = "als"
	// NodeCompatV1: nodejs_compat before 2024-09-23: `node:*` imports only.
	NodeCompatV1 NodeCompatMode = "v1"
	// NodeCompatV2: nodejs_compat from 2024-09-23 (or nodejs_compat_v2): `node:*` and bare
	// built-in names, polyfills for what workerd lacks.
	NodeCompatV2 NodeCompatMode = "v2"
)

// nodeCompatDefaultOn is the compatibility date from which workerd enables Node.js
// compatibility (nodejs_compat and nodejs_compat_v2) without the flags; each is turned off
// with its own opt-out, no_nodejs_compat and no_nodejs_compat_v2 (docs/bundling.md).
const nodeCompatDefaultOn = "2026-08-04"

// nodeCompatMode resolves the flags as workerd does: nodejs_compat is on when listed, or from
// nodeCompatDefaultOn unless no_nodejs_compat; nodejs_compat_v2 is on when listed, or (unless
// no_nodejs_compat_v2) from nodeCompatDefaultOn, or with nodejs_compat from 2024-09-23.
// v2 wins over v1, which wins over nodejs_als.
func nodeCompatMode(date string, flags []string) NodeCompatMode {
	has := func(f string) bool { return slices.Contains(flags, f) }
	defaultOn := date >= nodeCompatDefaultOn
	compat := has("nodejs_compat") || (defaultOn && !has("no_nodejs_compat"))
	v2 := has("nodejs_compat_v2") || (!has("no_nodejs_compat_v2") && (defaultOn || (compat && date >= "2024-09-23")))
	switch {
	case v2:
		return NodeCompatV2
	case compat:
		return NodeCompatV1
	case has("nodejs_als"):
		return NodeCompatALS
	}
	return NodeCompatNone
}

// nodeBuiltins are Node.js's built-in module names without the `node:` prefix (Node.js 24's
// module.builtinModules, the list wrangler matches bare imports against).
var nodeBuiltins = []string{
	"_http_agent", "_http_client", "_http_common", "_http_incoming", "_http_outgoing", "_http_server",
	"_stream_duplex", "_stream_passthrough", "_stream_readable", "_stream_transform", "_stream_wrap",
	"_stream_writable", "_tls_common", "_tls_wrap", "assert", "assert/strict", "async_hooks", "buffer",
	"child_process", "cluster", "console", "constants", "crypto", "dgram", "diagnostics_channel", "dns",
	"dns/promises", "domain", "events", "fs", "fs/promises", "http", "http2", "https", "inspector",
	"inspector/promises", "module", "net", "os", "path", "path/posix", "path/win32", "perf_hooks",
	"process", "punycode", "querystring", "readline", "readline/promises", "repl", "stream",
	"stream/consumers", "stream/promises", "stream/web", "string_decoder", "sys", "timers",
	"timers/promises", "tls", "trace_events", "tty", "url", "util", "util/types", "v8", "vm", "wasi",
	"worker_threads", "zlib",
}

// defaultNativeModules are the built-ins workerd implements under nodejs_compat whatever the date.
var defaultNativeModules = []string{
	"_stream_duplex", "_stream_passthrough", "_stream_readable", "_stream_transform", "_stream_writable",
	"_tls_common", "_tls_wrap", "assert", "assert/strict", "async_hooks", "buffer", "constants", "crypto",
	"diagnostics_channel", "dns", "dns/promises", "events", "net", "path", "path/posix", "path/win32",
	"querystring", "module", "stream", "stream/consumers", "stream/promises", "stream/web",
	"string_decoder", "sys", "timers", "timers/promises", "tls", "url", "util", "util/types", "zlib",
}

// dated is a group of built-ins workerd implements from a compatibility date on, or with an
// enable flag, unless a disable flag is set.
type dated struct {
	date, enable, disable string
	modules               []string
}

// datedNativeModules mirrors @cloudflare/unenv-preset 2.16 (the version wrangler 4.85 ships).
var datedNativeModules = []dated{
	{"2025-08-15", "enable_nodejs_http_modules", "disable_nodejs_http_modules",
		[]string{"_http_agent", "_http_client", "_http_common", "_http_incoming", "_http_outgoing", "http", "https"}},
	{"2025-09-01", "enable_nodejs_http2_module", "disable_nodejs_http2_module", []string{"http2"}},
	{"2025-09-15", "enable_nodejs_os_module", "disable_nodejs_os_module", []string{"os"}},
	{"2025-09-15", "enable_nodejs_fs_module", "disable_nodejs_fs_module", []string{"fs/promises", "fs"}},
	{"2025-12-04", "enable_nodejs_punycode_module", "disable_nodejs_punycode_module", []string{"punycode"}},
	{"2025-12-04", "enable_nodejs_cluster_module", "disable_nodejs_cluster_module", []string{"cluster"}},
	{"2025-12-04", "enable_nodejs_trace_events_module", "disable_nodejs_trace_events_module", []string{"trace_events"}},
	{"2025-12-04", "enable_nodejs_domain_module", "disable_nodejs_domain_module", []string{"domain"}},
	{"2025-12-04", "enable_nodejs_wasi_module", "disable_nodejs_wasi_module", []string{"wasi"}},
	{"2025-09-21", "enable_nodejs_console_module", "disable_nodejs_console_module", []string{"console"}},
	{"2025-10-01", "enable_nodejs_vm_module", "disable_nodejs_vm_module", []string{"vm"}},
	{"2026-01-29", "enable_nodejs_inspector_module", "disable_nodejs_inspector_module", []string{"inspector/promises", "inspector"}},
	{"2026-01-29", "enable_nodejs_sqlite_module", "disable_nodejs_sqlite_module", []string{"sqlite"}},
	{"2026-01-29", "enable_nodejs_dgram_module", "disable_nodejs_dgram_module", []string{"dgram"}},
	{"2026-01-29", "enable_nodejs_stream_wrap_module", "disable_nodejs_stream_wrap_module", []string{"_stream_wrap"}},
	{"2026-03-17", "enable_nodejs_repl_module", "disable_nodejs_repl_module", []string{"repl"}},
	{"2026-03-17", "enable_nodejs_v8_module", "disable_nodejs_v8_module", []string{"v8"}},
	{"2026-03-17", "enable_nodejs_tty_module", "disable_nodejs_tty_module", []string{"tty"}},
	{"2026-03-17", "enable_nodejs_child_process_module", "disable_nodejs_child_process_module", []string{"child_process"}},
	{"2026-03-17", "enable_nodejs_worker_threads_module", "disable_nodejs_worker_threads_module", []string{"worker_threads"}},
	{"2026-03-17", "enable_nodejs_readline_module", "disable_nodejs_readline_module", []string{"readline", "readline/promises"}},
	{"2026-03-17", "enable_nodejs_perf_hooks_module", "disable_nodejs_perf_hooks_module", []string{"perf_hooks"}},
}

// nodeEnv is the Node.js environment for one compatibility date and flag set, in v2 mode: what
// workerd provides natively and what unenv (through @cloudflare/unenv-preset) must polyfill.
type nodeEnv struct {
	native map[string]bool // bare names workerd provides
	// alias maps a bare built-in name to the module specifier that polyfills it.
	alias map[string]string
	// inject maps a global name to the module whose default export becomes globalThis.<name>.
	inject map[string]string
	// polyfills are side-effect modules injected into the bundle.
	polyfills []string
}

// newNodeEnv computes wrangler's merge of unenv's base preset with the Cloudflare preset.
func newNodeEnv(date string, flags []string) nodeEnv {
	has := func(f string) bool { return slices.Contains(flags, f) }
	enabled := func(d dated) bool { return (has(d.enable) || date >= d.date) && !has(d.disable) }
	env := nodeEnv{native: map[string]bool{}, alias: map[string]string{}, inject: map[string]string{}}
	for _, m := range defaultNativeModules {
		env.native[m] = true
	}
	for _, d := range datedNativeModules {
		if enabled(d) {
			for _, m := range d.modules {
				env.native[m] = true
			}
		}
	}
	// The http server modules need the http modules as well.
	httpOn := enabled(datedNativeModules[0])
	if httpOn && (has("enable_nodejs_http_server_modules") || date >= "2025-09-01") && !has("disable_nodejs_http_server_modules") {
		env.native["_http_server"] = true
	}
	// node:process v2 needs workerd's fixes for iterable bodies.
	if iterableBodies(date, flags) && processV2(date, flags) {
		env.native["process"] = true
	}
	hybrid := map[string]bool{}
	if !env.native["process"] {
		hybrid["process"] = true
		env.inject["process"] = "@cloudflare/unenv-preset/node/process"
	}
	if !env.native["console"] {
		hybrid["console"] = true
		env.inject["console"] = "@cloudflare/unenv-preset/node/console"
	}
	if !env.native["perf_hooks"] {
		env.polyfills = append(env.polyfills, "@cloudflare/unenv-preset/polyfill/performance")
	}
	for _, m := range append(slices.Clone(nodeBuiltins), "sqlite") {
		switch {
		case env.native[m]:
		case hybrid[m]:
			env.alias[m] = "@cloudflare/unenv-preset/node/" + m
		default:
			env.alias[m] = unenvAlias(m)
		}
	}
	return env
}

// processV2 reports workerd's own `process` ("process v2": a global whose type tag is
// "[object process]"), on from compatibility date 2025-09-15 under v2 mode.
func processV2(date string, flags []string) bool {
	return (slices.Contains(flags, "enable_nodejs_process_v2") || date >= "2025-09-15") && !slices.Contains(flags, "disable_nodejs_process_v2")
}

// iterableBodies reports workerd's support for async-iterable Response bodies
// (fetch_iterable_type_support, default from 2026-02-19, with its adjustment from 2026-01-15);
// without it such a body is sent as the text of its toString().
func iterableBodies(date string, flags []string) bool {
	has := func(f string) bool { return slices.Contains(flags, f) }
	return (date >= "2026-02-19" || has("fetch_iterable_type_support")) && !has("no_fetch_iterable_type_support") &&
		(date >= "2026-01-15" || has("fetch_iterable_type_support_override_adjustment")) &&
		!has("no_fetch_iterable_type_support_override_adjustment")
}

// NativeProcessReplaced reports whether workerd gives the Worker its own `process` (Node.js
// compatibility v2 with process v2) while a bundle built as wrangler builds it swaps that global
// for @cloudflare/unenv-preset's polyfill, because the preset keeps workerd's `process` only
// where workerd also reads async-iterable bodies. Code that tells Node.js by `process`'s type
// tag then sees Node.js unbundled but not bundled (docs/bundling.md).
func NativeProcessReplaced(date string, flags []string) bool {
	return nodeCompatMode(date, flags) == NodeCompatV2 && processV2(date, flags) && !newNodeEnv(date, flags).native["process"]
}

// UnenvPresetInstalled reports whether @cloudflare/unenv-preset and unenv resolve from dir
// (its node_modules or those above it): only then does a bundle get unenv's polyfills.
func UnenvPresetInstalled(dir string) bool {
	return installed(dir, "@cloudflare/unenv-preset") && installed(dir, "unenv")
}

// unenvAlias is unenv's own polyfill for a built-in workerd lacks.
func unenvAlias(m string) string {
	switch {
	case strings.HasPrefix(m, "_"):
		return "unenv/mock/proxy-cjs"
	case m == "sys":
		return "unenv/node/util"
	case m == "path/posix", m == "path/win32":
		return "unenv/node/path"
	}
	return "unenv/node/" + m
}

// npmShims are unenv's replacements for npm packages that only work on Node.js; wrangler
// applies them under nodejs_compat (except debug, which it keeps).
var npmShims = map[string]string{
	"cross-fetch":                  "unenv/npm/cross-fetch",
	"fsevents":                     "unenv/npm/fsevents",
	"inherits":                     "unenv/npm/inherits",
	"node-fetch":                   "unenv/npm/node-fetch",
	"node-fetch-native":            "unenv/npm/node-fetch",
	"whatwg-url":                   "unenv/npm/whatwg-url/index",
	"whatwg-url/webidl2js-wrapper": "unenv/npm/whatwg-url/webidl2js-wrapper",
	"cross-fetch/polyfill":         "unenv/mock/empty",
	"node-fetch-native/polyfill":   "unenv/mock/empty",
	"isomorphic-fetch":             "unenv/mock/empty",
}

// builtinName returns the bare built-in name of a specifier ("node:fs/promises", "fs/promises"
// → "fs/promises") and whether it names a Node.js built-in. Any `node:` specifier counts.
func builtinName(spec string) (string, bool) {
	if rest, ok := strings.CutPrefix(spec, "node:"); ok {
		return rest, rest != ""
	}
	return spec, slices.Contains(nodeBuiltins, spec)
}

// ModeFor returns the Node.js compatibility mode of a compatibility date and flag set.
func ModeFor(date string, flags []string) NodeCompatMode { return nodeCompatMode(date, flags) }

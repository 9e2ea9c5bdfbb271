// Starts a directory of Worker modules in workerd through Miniflare and prints the answers to a
// list of requests, one JSON line per request, so two bundles of the same project can be compared.
//
// usage: node workerd-check.mjs <modules-dir> <main-module> <compat-date> <flags,comma> <durable-object-class|-> <path>...
// Miniflare is resolved from MINIFLARE_DIR (a node_modules folder holding miniflare).
import { createRequire } from "node:module";
import { readdirSync } from "node:fs";
import path from "node:path";

const [dir, main, date, flags, doClass, ...paths] = process.argv.slice(2);
const require = createRequire(path.join(process.env.MINIFLARE_DIR ?? "/tmp/wrangler-4.85.0/node_modules", "x.js"));
const { Miniflare } = require("miniflare");

const typeOf = (name) => {
	if (name.endsWith(".map")) return null;
	if (name.endsWith(".js") || name.endsWith(".mjs")) return "ESModule";
	if (name.endsWith(".cjs")) return "CommonJS";
	if (name.endsWith(".wasm")) return "CompiledWasm";
	if (name.endsWith(".bin")) return "Data";
	if (name.endsWith(".txt") || name.endsWith(".html") || name.endsWith(".sql")) return "Text";
	return null;
};
const files = readdirSync(dir, { recursive: true }).filter((f) => typeOf(f));
// The main module first, as workerd takes the first module as the entry.
files.sort((a, b) => (a === main ? -1 : b === main ? 1 : a.localeCompare(b)));
const mf = new Miniflare({
	modulesRoot: dir,
	modules: files.map((f) => ({ type: typeOf(f), path: path.join(dir, f) })),
	compatibilityDate: date,
	compatibilityFlags: flags ? flags.split(",").filter(Boolean) : [],
	durableObjects: doClass && doClass !== "-" ? { COUNTER: { className: doClass, useSQLite: true } } : undefined,
});
try {
	for (const p of paths) {
		const res = await mf.dispatchFetch("http://localhost" + p);
		console.log(JSON.stringify({ path: p, status: res.status, body: await res.text() }));
	}
} finally {
	await mf.dispose();
}

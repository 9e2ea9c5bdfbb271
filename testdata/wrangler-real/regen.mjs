// regen.mjs records what wrangler uploads for each real configuration in this
// folder: for every case (a folder with a wrangler.jsonc/.json/.toml) and every
// environment (the top level, then each env.<name>), it runs `wrangler deploy`
// against a local stand-in for Cloudflare's API that answers as for a Worker
// that does not exist yet, captures the multipart `metadata` part of the
// upload, and writes it to <case>/golden/<env or _top>.json.
//
// Usage: node regen.mjs /path/to/node_modules/.bin/wrangler [case …]
// (run.sh installs wrangler@4.85.0 in a temporary folder and calls this).
// Only loopback is used; the Worker's entry is replaced by a stub, so only the
// configuration decides the metadata.
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";

const here = path.dirname(new URL(import.meta.url).pathname);
const [wrangler, ...only] = process.argv.slice(2);
if (!wrangler) {
	console.error("usage: node regen.mjs <wrangler binary> [case …]");
	process.exit(2);
}
const ACCOUNT = "0123456789abcdef0123456789abcdef";

let captured = null;
let current = null; // the running wrangler, stopped once its upload is captured
function reply(res, status, result, errors = []) {
	res.writeHead(status, { "content-type": "application/json" });
	res.end(JSON.stringify({ success: status < 400, errors, messages: [], result }));
}
const server = http.createServer(async (req, res) => {
	const chunks = [];
	for await (const c of req) chunks.push(c);
	const body = Buffer.concat(chunks);
	const u = new URL(req.url, "http://x");
	const p = u.pathname.replace(/^\/client\/v4/, "");
	const ct = req.headers["content-type"] || "";
	if (process.env.DEBUG_REGEN) console.error(Date.now() % 100000, req.method, u.pathname + u.search);
	if (ct.startsWith("multipart/form-data") && /\/workers\/scripts\/[^/]+(\/versions)?$/.test(p)) {
		const form = await new Response(body, { headers: { "content-type": ct } }).formData();
		const meta = form.get("metadata");
		captured = JSON.parse(typeof meta === "string" ? meta : await meta.text());
		setTimeout(() => current?.kill("SIGKILL"), 100);
		return reply(res, 200, { id: "v-1", etag: "e", number: 1, resources: {} });
	}
	if (req.method === "GET" && /\/workers\/services\/[^/]+$/.test(p)) {
		return reply(res, 404, null, [{ code: 10007, message: "This Worker does not exist on your account." }]);
	}
	if (req.method === "GET" && /\/workers\/scripts\/[^/]+\/settings$/.test(p)) {
		return reply(res, 404, null, [{ code: 10007, message: "workers.api.error.script_not_found" }]);
	}
	if (req.method === "GET" && p.endsWith("/workers/scripts")) return reply(res, 200, []);
	if (req.method === "GET" && /\/workers\/scripts\/[^/]+\/deployments$/.test(p)) return reply(res, 200, { deployments: [] });
	if (p.endsWith("/assets-upload-session")) return reply(res, 200, { jwt: "assets-jwt", buckets: [] });
	if (req.method === "GET" && p.endsWith("/queues")) {
		const name = u.searchParams.get("name");
		return reply(res, 200, name ? [{ queue_id: "q-" + name, queue_name: name }] : []);
	}
	// Resources named without an ID: none exist; creates get IDs derived from the name.
	if (req.method === "GET" && p.endsWith("/d1/database")) return reply(res, 200, []);
	if (req.method === "POST" && p.endsWith("/d1/database")) {
		const { name } = JSON.parse(body.toString() || "{}");
		return reply(res, 200, { uuid: "d1-" + name, name });
	}
	if (req.method === "GET" && p.endsWith("/storage/kv/namespaces")) return reply(res, 200, []);
	if (req.method === "POST" && p.endsWith("/storage/kv/namespaces")) {
		const { title } = JSON.parse(body.toString() || "{}");
		return reply(res, 200, { id: "kv-" + title, title });
	}
	if (req.method === "GET" && /\/r2\/buckets\/[^/]+$/.test(p)) {
		return reply(res, 404, null, [{ code: 10006, message: "The specified bucket does not exist." }]);
	}
	if (req.method === "POST" && p.endsWith("/r2/buckets")) return reply(res, 200, {});
	if (req.method === "GET" && p.endsWith("/r2/buckets")) return reply(res, 200, { buckets: [] });
	if (req.method === "GET" && p.endsWith("/workers/subdomain")) return reply(res, 200, { subdomain: "example" });
	// After the upload, the rest of the deploy (routes, triggers, settings) is of no interest.
	return reply(res, 200, {});
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}/client/v4`;

function run(cwd, args) {
	return new Promise((resolve) => {
		const child = spawn(wrangler, args, {
			cwd,
			env: {
				PATH: process.env.PATH,
				HOME: cwd,
				CI: "true",
				CLOUDFLARE_API_TOKEN: "token",
				CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
				CLOUDFLARE_API_BASE_URL: base,
				WRANGLER_SEND_METRICS: "false",
				WRANGLER_LOG: process.env.WRANGLER_LOG || "log",
				// No update check against the npm registry.
				WRANGLER_HIDE_BANNER: "true",
				NO_UPDATE_NOTIFIER: "1",
			},
			stdio: ["ignore", "pipe", "pipe"],
		});
		current = child;
		let out = "";
		child.stdout.on("data", (d) => (out += d));
		child.stderr.on("data", (d) => (out += d));
		const t = setTimeout(() => child.kill("SIGKILL"), 120000);
		child.on("close", (code) => {
			clearTimeout(t);
			resolve({ code, out });
		});
	});
}

function configOf(dir) {
	for (const f of ["wrangler.jsonc", "wrangler.json", "wrangler.toml"]) {
		if (fs.existsSync(path.join(dir, f))) return f;
	}
	return null;
}

// envNames reads env.<name> keys with wrangler's own parser output: wrangler
// prints nothing about them, so they are listed in the case's ENVS file
// (one name a line), written when the case was collected.
function envNames(dir) {
	const f = path.join(dir, "ENVS");
	if (!fs.existsSync(f)) return [];
	return fs.readFileSync(f, "utf8").split("\n").map((s) => s.trim()).filter(Boolean);
}

const cases = fs
	.readdirSync(here, { withFileTypes: true })
	.filter((d) => d.isDirectory() && configOf(path.join(here, d.name)))
	.map((d) => d.name)
	.filter((n) => only.length === 0 || only.includes(n))
	.sort()
	// REGEN_SHARD=i/n runs every n-th case (wrangler spends ~10 s starting up).
	.filter((_, i) => {
		const [k, n] = (process.env.REGEN_SHARD || "0/1").split("/").map(Number);
		return i % n === k;
	});

for (const name of cases) {
	const src = path.join(here, name);
	const file = configOf(src);
	const stub = JSON.parse(fs.readFileSync(path.join(src, "STUB.json"), "utf8"));
	for (const env of ["", ...envNames(src)]) {
		const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wrangler-real-"));
		fs.copyFileSync(path.join(src, file), path.join(tmp, file));
		// STUB.json lists the files the configuration needs (entry, assets
		// directory), written when the case was collected.
		for (const f of stub.files || []) {
			fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true });
			fs.writeFileSync(path.join(tmp, f), f.endsWith(".html") ? "<p>hi</p>\n" : stub.entry);
		}
		captured = null;
		const args = ["deploy", "--config", file];
		if (env) args.push("--env", env);
		if (stub.assets_flag) args.push("--assets", stub.assets_flag);
		if (stub.secrets?.length) {
			// `secrets.required`: a new Worker gets them from a secrets file.
			const values = Object.fromEntries(stub.secrets.map((k) => [k, "stub-secret"]));
			fs.writeFileSync(path.join(tmp, "stub-secrets.json"), JSON.stringify(values));
			args.push("--secrets-file", "stub-secrets.json");
		}
		const { code, out } = await run(tmp, args);
		const key = env || "_top";
		fs.mkdirSync(path.join(src, "golden"), { recursive: true });
		const dst = path.join(src, "golden", key + ".json");
		const skip = path.join(src, "golden", key + ".skipped");
		fs.rmSync(skip, { force: true });
		if (captured) {
			fs.writeFileSync(dst, JSON.stringify(captured, null, "\t") + "\n");
			console.log(`ok   ${name} ${key}`);
		} else {
			fs.rmSync(dst, { force: true });
			if (process.env.DEBUG_REGEN) console.log(out);
			const why = out.split("\n").filter((l) => /ERROR|✘/.test(l)).slice(0, 3).join(" | ").slice(0, 300);
			// eslint-disable-next-line no-control-regex
			fs.writeFileSync(skip, `wrangler exited ${code} before uploading: ${why.replace(/\x1b\[[0-9;]*m/g, "")}\n`);
			console.log(`skip ${name} ${key}: ${why}`);
		}
		fs.rmSync(tmp, { recursive: true, force: true });
	}
}
server.close();

// Starts one Worker version, as the emulator stored it, in workerd through
// Miniflare, requests a path and prints one JSON line with the outcome:
//
//   node start.mjs DIR [PATH]
//
// DIR holds version.json (written by the e2e test from the emulator's
// inspection API), modules/<name> for every module and assets/<path> for the
// uploaded static assets (the asset tree the version's manifest names). The result line is
//   {"started":true,"status":200,"body":"…","warnings":[…]}
// or {"started":false,"error":"…"} when workerd refuses the Worker; the exit
// code is 0 in both cases, non-zero only when the script itself is misused.
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { Miniflare } from "miniflare";

const [dir, reqPath = "/"] = process.argv.slice(2);
if (!dir) {
  console.error("usage: node start.mjs DIR [PATH]");
  process.exit(2);
}
const meta = JSON.parse(await readFile(path.join(dir, "version.json"), "utf8"));
const modulesRoot = path.resolve(dir, "modules");
const warnings = [];

// The Workers API's module content types, as workerd module kinds.
const kinds = {
  "application/javascript+module": "ESModule",
  "application/javascript": "CommonJS",
  "text/javascript": "CommonJS",
  "text/plain": "Text",
  "application/octet-stream": "Data",
  "application/wasm": "CompiledWasm",
};
const modules = [];
for (const m of meta.modules) {
  if (m.name === "_headers" || m.name === "_redirects") {
    // The assets' header and redirect rules travel as parts of the version; they
    // configure asset serving and are not code.
    warnings.push(`${m.name}: asset rules not applied here`);
    continue;
  }
  const type = kinds[m.contentType];
  if (!type) {
    // Source maps ride along with a version but are not modules workerd loads.
    if (m.contentType !== "application/source-map") warnings.push(`module ${m.name}: content type ${m.contentType} not started`);
    continue;
  }
  const p = path.join(modulesRoot, m.name);
  const mod = { type, path: p, contents: await readFile(p) };
  if (m.name === meta.mainModule) modules.unshift(mod);
  else modules.push(mod);
}

const opts = {
  name: meta.workerName,
  modules,
  modulesRoot,
  compatibilityDate: meta.compatibilityDate || "2025-01-01",
  compatibilityFlags: meta.compatibilityFlags || [],
  bindings: {},
  serviceBindings: {},
  durableObjects: {},
  kvNamespaces: {},
  r2Buckets: {},
  d1Databases: {},
};
let assetsBinding;
for (const b of meta.bindings || []) {
  switch (b.type) {
    case "plain_text":
    case "secret_text":
      opts.bindings[b.name] = b.text;
      break;
    case "json":
      opts.bindings[b.name] = b.json;
      break;
    case "assets":
      assetsBinding = b.name;
      break;
    case "service":
      if (b.service === meta.workerName) opts.serviceBindings[b.name] = meta.workerName;
      else warnings.push(`service binding ${b.name} to ${b.service} not started`);
      break;
    case "images":
      opts.images = { binding: b.name };
      break;
    case "durable_object_namespace":
      opts.durableObjects[b.name] = { className: b.class_name };
      break;
    case "kv_namespace":
      opts.kvNamespaces[b.name] = b.namespace_id;
      break;
    case "r2_bucket":
      opts.r2Buckets[b.name] = b.bucket_name;
      break;
    case "d1":
      opts.d1Databases[b.name] = b.id;
      break;
    default:
      warnings.push(`binding ${b.name} of type ${b.type} not started`);
  }
}
if (meta.hasAssets) {
  const assetsDir = path.join(dir, "assets");
  await mkdir(assetsDir, { recursive: true });
  opts.assets = { directory: assetsDir, routerConfig: { has_user_worker: true } };
  if (assetsBinding) opts.assets.binding = assetsBinding;
  // The version's assets.config (html_handling, not_found_handling, run_worker_first, …).
  if (meta.assetConfig) {
    const { run_worker_first, ...assetConfig } = meta.assetConfig;
    opts.assets.assetConfig = assetConfig;
    if (run_worker_first !== undefined) opts.assets.routerConfig.invoke_user_worker_ahead_of_assets = run_worker_first === true;
  }
}

let mf;
const result = { started: false };
try {
  mf = new Miniflare(opts);
  await mf.ready;
  result.started = true;
  const res = await mf.dispatchFetch(new URL(reqPath, "http://localhost/"), { redirect: "manual" });
  result.status = res.status;
  result.body = (await res.text()).slice(0, 4000);
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err).slice(0, 4000);
} finally {
  if (mf) await mf.dispose().catch(() => {});
}
result.warnings = warnings;
console.log(JSON.stringify(result));

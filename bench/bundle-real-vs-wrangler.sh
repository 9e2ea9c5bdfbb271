#!/usr/bin/env bash
# Bundling real framework output: workers-deploy's in-process esbuild vs the project's own
# wrangler (`wrangler deploy --dry-run --outdir`), on SvelteKit's adapter output and OpenNext's
# output (the starters in testdata/real/sveltekit and testdata/real/nextjs; SvelteKit pins
# wrangler 4.85.0, OpenNext 4.86.0 as @opennextjs/cloudflare needs it).
# Each project is installed from its lockfile (npm ci --ignore-scripts) and built once with the
# framework's command, outside the timing. Then, before timing: both tools bundle it, the module
# sets must be equal (wrangler's --outdir minus its README.md and source map; the action's own
# dry-run plan must list the same), and both outputs, started in workerd through Miniflare
# (e2e/realbuild/start.mjs, with the project's assets and bindings), must give the same answers
# to GET / and GET /no-such-page (the page's server-rendered ISO timestamp masked). Then one
# hyperfine session per project, 1 warm-up + RUNS runs each: the whole `workers-deploy --dry-run`
# process, the bundling step alone (bench/bundle/dump) and `wrangler deploy --dry-run --outdir`.
# Neither tool talks to the API.
# Needs: go, node/npm (and the npm registry or a warm npm cache), hyperfine.
# Usage: bench/bundle-real-vs-wrangler.sh [RUNS]   (KEEP=dir keeps the work folder there)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
if [ -n "${KEEP:-}" ]; then
  work=$KEEP
  mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
export CI=true WRANGLER_SEND_METRICS=false NEXT_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 \
  npm_config_update_notifier=false npm_config_audit=false npm_config_fund=false

CGO_ENABLED=0 go build -C "$root" -trimpath -ldflags "-s -w" -o "$work/workers-deploy" ./cmd/workers-deploy
go build -C "$root" -o "$work/dump" ./bench/bundle/dump

# Miniflare at the version the real-build test pins, for start.mjs.
rm -rf "$work/realbuild"
cp -r "$root/e2e/realbuild" "$work/realbuild"
(cd "$work/realbuild" && npm ci --ignore-scripts >/dev/null 2>&1)

# jsonc FILE EXPR: evaluates EXPR on the wrangler configuration c (comments stripped).
jsonc() {
  node -e '
    const fs = require("fs");
    const src = fs.readFileSync(process.argv[1], "utf8").replace(/^\s*\/\/.*$/gm, "").replace(/,(\s*[}\]])/g, "$1");
    const c = JSON.parse(src);
    const v = (0, eval)("(c) => " + process.argv[2])(c);
    console.log(Array.isArray(v) ? v.join(",") : v ?? "");
  ' "$1" "$2"
}

# startdir TOOL-OUT PROJECT DIR: lays out DIR for start.mjs: version.json (the configuration's
# compatibility settings and bindings, the modules in TOOL-OUT), modules/ and assets/.
startdir() {
  local out=$1 proj=$2 dir=$3
  rm -rf "$dir"
  mkdir -p "$dir"
  ln -s "$out" "$dir/modules"
  ln -s "$proj/$(jsonc "$proj/wrangler.jsonc" 'c.assets.directory')" "$dir/assets"
  node -e '
    const fs = require("fs"), path = require("path");
    const [cfgPath, out, main] = process.argv.slice(1);
    const c = JSON.parse(fs.readFileSync(cfgPath, "utf8").replace(/^\s*\/\/.*$/gm, "").replace(/,(\s*[}\]])/g, "$1"));
    const types = { ".js": "application/javascript+module", ".mjs": "application/javascript+module",
      ".wasm": "application/wasm", ".txt": "text/plain", ".html": "text/plain", ".bin": "application/octet-stream" };
    const modules = fs.readdirSync(out, { recursive: true })
      .filter((f) => f !== "README.md" && !f.endsWith(".map") && types[path.extname(f)])
      .map((f) => ({ name: f, contentType: types[path.extname(f)] }));
    const bindings = [];
    if (c.assets?.binding) bindings.push({ type: "assets", name: c.assets.binding });
    for (const s of c.services ?? []) bindings.push({ type: "service", name: s.binding, service: s.service });
    if (c.images?.binding) bindings.push({ type: "images", name: c.images.binding });
    console.log(JSON.stringify({ workerName: c.name, mainModule: main, modules,
      compatibilityDate: c.compatibility_date, compatibilityFlags: c.compatibility_flags ?? [],
      bindings, hasAssets: !!c.assets?.directory }, null, 2));
  ' "$proj/wrangler.jsonc" "$out" "$(basename "$(jsonc "$proj/wrangler.jsonc" 'c.main')")" > "$dir/version.json"
}

# answers DIR PATH...: one line per path, the page's ISO timestamps masked (both pages print the
# time they were rendered at).
answers() {
  local dir=$1 p
  shift
  for p in "$@"; do
    (cd "$work/realbuild" && node start.mjs "$dir" "$p") |
      sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z/<time>/g'
  done
}

paths=(/ /no-such-page)
printf '| project | modules (both) | same answers in workerd | workers-deploy dry run (median) | bundling step alone (median) | wrangler deploy --dry-run --outdir (median) | faster (dry run) | faster (bundling step alone) |\n|---|---|---|---|---|---|---|---|\n' > "$work/table"
# project:build command:text the page at / shows (as in e2e/realbuild_test.go)
for spec in "sveltekit:npx vite build:Welcome to SvelteKit" "nextjs:npx opennextjs-cloudflare build:Next.js on Workers"; do
  IFS=: read -r p build marker <<< "$spec"
  proj="$work/$p"
  rm -rf "$proj"
  cp -r "$root/testdata/real/$p" "$proj"
  cd "$proj"
  echo "== $p: npm ci, $build" >&2
  npm ci --ignore-scripts > "$work/npm-$p.log" 2>&1 || { cat "$work/npm-$p.log"; exit 1; }
  $build > "$work/build-$p.log" 2>&1 || { tail -50 "$work/build-$p.log"; exit 1; }
  wrangler="$proj/node_modules/.bin/wrangler"
  echo "== $p: wrangler $("$wrangler" --version 2>/dev/null | tail -1)" >&2
  main=$(jsonc wrangler.jsonc 'c.main') date=$(jsonc wrangler.jsonc 'c.compatibility_date') fl=$(jsonc wrangler.jsonc 'c.compatibility_flags ?? []')

  # Ours first: wrangler's .wrangler/tmp must not be what our dry run reads.
  "$work/dump" . "$main" "$work/out-ours-$p" "$date" "$fl" > "$work/dump-$p.log"
  "$work/workers-deploy" --dry-run > "$work/ours-$p.log" 2>&1 || { cat "$work/ours-$p.log"; exit 1; }
  "$wrangler" deploy --dry-run --outdir "$work/out-wr-$p" > "$work/wr-$p.log" 2>&1 || { cat "$work/wr-$p.log"; exit 1; }
  theirs=$(cd "$work/out-wr-$p" && find . -type f | sed 's|^\./||' | grep -v -e '^README.md$' -e '\.map$' | sort | tr '\n' ' ')
  ours=$(cd "$work/out-ours-$p" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
  # The action's own plan must list the same modules as the bundle checked in workerd (the
  # assets' _headers/_redirects rules, which travel as parts of the version, aside).
  planned=$(sed -n 's/^  \([^ ]*\) \{1,\}application\/.*\|^  \([^ ]*\) \{1,\}text\/.*/\1\2/p' "$work/ours-$p.log" |
    grep -v -x -e _headers -e _redirects | sort | tr '\n' ' ')
  [ "$theirs" = "$ours" ] && [ "$ours" = "$planned" ] || { echo "$p: modules differ: wrangler [$theirs] ours [$ours] plan [$planned]" >&2; exit 1; }

  startdir "$work/out-wr-$p" "$proj" "$work/start-wr-$p"
  startdir "$work/out-ours-$p" "$proj" "$work/start-ours-$p"
  answers "$work/start-wr-$p" "${paths[@]}" > "$work/ans-wr-$p"
  answers "$work/start-ours-$p" "${paths[@]}" > "$work/ans-ours-$p"
  diff "$work/ans-wr-$p" "$work/ans-ours-$p" >&2 || { echo "$p: answers differ in workerd" >&2; exit 1; }
  # GET / must be the page itself, started and answered with 200.
  head -1 "$work/ans-ours-$p" | grep -q "^{\"started\":true,\"status\":200,.*$marker" ||
    { echo "$p: GET / did not answer 200 with \"$marker\": $(head -c 600 "$work/ans-ours-$p")" >&2; exit 1; }
  status=$(sed -E 's/.*"status":([0-9]+).*/\1/' "$work/ans-ours-$p" | tr '\n' ' ')
  echo "== $p: ${#paths[@]} requests answered alike (status $status); modules: $ours" >&2

  hyperfine -N --style basic --warmup 1 --runs "$runs" --export-json "$work/h-$p.json" \
    -n workers-deploy "$work/workers-deploy --dry-run" \
    -n bundle-step "$work/dump . $main $work/tmp-ours-$p $date $fl" \
    -n wrangler "$wrangler deploy --dry-run --outdir $work/tmp-wr-$p" >&2
  python3 - "$work/h-$p.json" "$p" "$(echo "$ours" | wc -w)" "$status" >> "$work/table" <<'PY'
import json, statistics, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: statistics.median(v["times"]) for k, v in r.items()}
print(f"| {sys.argv[2]} | {sys.argv[3]} | yes (GET / and /no-such-page: {sys.argv[4].strip()}) | "
      f"{med['workers-deploy']*1000:.1f} ms | {med['bundle-step']*1000:.1f} ms | {med['wrangler']*1000:.1f} ms | "
      f"{med['wrangler']/med['workers-deploy']:.1f}× | {med['wrangler']/med['bundle-step']:.1f}× |")
PY
  cd "$root"
done
cat "$work/table"

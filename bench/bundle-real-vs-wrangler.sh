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
# Neither tool talks to the API. For scale, the same session also times the native esbuild binary
# from wrangler's node_modules (the same 0.27.3) bundling the entry alone with the action's main
# options (`esbuild-cli`: no plugins, so no unenv aliases or module rules; cloudflare:*, node:* and
# Node's built-ins external). Each cell of the table: the median wall time, hyperfine's mean CPU
# time (user + system), and how many times faster than wrangler (medians).
# Needs: go, node/npm (and the npm registry or a warm npm cache), hyperfine.
# Usage: bench/bundle-real-vs-wrangler.sh [RUNS]
#   KEEP=dir   keeps the work folder there;
#   REUSE=1    (with KEEP) reuses the projects already installed and built in KEEP;
#   BASE=rev   also times workers-deploy and dump built at git revision rev (e.g. main), in the
#              same hyperfine session, for a before/after comparison.
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
if [ -n "${BASE:-}" ]; then
  rm -rf "$work/base-src"
  mkdir -p "$work/base-src"
  git -C "$root" archive "$BASE" | tar -x -C "$work/base-src"
  CGO_ENABLED=0 go build -C "$work/base-src" -trimpath -ldflags "-s -w" -o "$work/workers-deploy-base" ./cmd/workers-deploy
  go build -C "$work/base-src" -o "$work/dump-base" ./bench/bundle/dump
fi

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
{
  printf '| project | modules (both) | same answers in workerd | workers-deploy dry run | bundling step alone (dump) |'
  [ -z "${BASE:-}" ] || printf ' workers-deploy dry run at %s | bundling step alone at %s |' "$BASE" "$BASE"
  printf ' esbuild CLI alone (for scale) | wrangler deploy --dry-run --outdir | load average (1, 5, 15 min) |\n'
  printf '|---|---|---|---|---|'
  [ -z "${BASE:-}" ] || printf -- '---|---|'
  printf -- '---|---|---|\n'
} > "$work/table"
# project:build command:text the page at / shows (as in e2e/realbuild_test.go)
for spec in "sveltekit:npx vite build:Welcome to SvelteKit" "nextjs:npx opennextjs-cloudflare build:Next.js on Workers"; do
  IFS=: read -r p build marker <<< "$spec"
  proj="$work/$p"
  if [ -n "${REUSE:-}" ] && [ -n "${KEEP:-}" ] && [ -d "$proj/node_modules" ]; then
    cd "$proj"
    echo "== $p: reusing the installed and built project in $proj" >&2
  else
    rm -rf "$proj"
    cp -r "$root/testdata/real/$p" "$proj"
    cd "$proj"
    echo "== $p: npm ci, $build" >&2
    npm ci --ignore-scripts > "$work/npm-$p.log" 2>&1 || { cat "$work/npm-$p.log"; exit 1; }
    $build > "$work/build-$p.log" 2>&1 || { tail -50 "$work/build-$p.log"; exit 1; }
  fi
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

  # The esbuild binary wrangler runs, for scale.
  esbuild=$(find "$proj/node_modules/wrangler/node_modules" "$proj/node_modules" -maxdepth 4 -path '*/@esbuild/*/bin/esbuild' 2>/dev/null | head -1)
  external=$(node -e 'console.log(["cloudflare:*", "node:*", ...require("module").builtinModules.filter((m) => !m.startsWith("_"))].map((m) => "--external:" + m).join(" "))')
  base=()
  if [ -n "${BASE:-}" ]; then
    base=(-n "workers-deploy ($BASE)" "$work/workers-deploy-base --dry-run"
      -n "bundle-step ($BASE)" "$work/dump-base . $main $work/tmp-base-$p $date $fl")
  fi
  hyperfine -N --style basic --warmup 1 --runs "$runs" --export-json "$work/h-$p.json" \
    -n workers-deploy "$work/workers-deploy --dry-run" \
    -n bundle-step "$work/dump . $main $work/tmp-ours-$p $date $fl" \
    "${base[@]}" \
    -n esbuild-cli "$esbuild $main --bundle --format=esm --platform=browser --target=es2024 --conditions=workerd,worker,browser --keep-names '--define:process.env.NODE_ENV=\"production\"' --log-level=error --outfile=$work/tmp-cli-$p/out.js $external" \
    -n wrangler "$wrangler deploy --dry-run --outdir $work/tmp-wr-$p" >&2
  python3 - "$work/h-$p.json" "$p" "$(echo "$ours" | wc -w)" "$status" "${BASE:-}" "$(uptime | sed 's/.*load average: //')" >> "$work/table" <<'PY'
import json, statistics, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
med = {k: statistics.median(v["times"]) for k, v in r.items()}
cpu = {k: (v["user"] + v["system"]) for k, v in r.items()}  # hyperfine's means, seconds
base = sys.argv[5]
wr = med["wrangler"]
def cell(name):
    return f"{med[name]*1000:.1f} ms ({cpu[name]*1000:.0f} ms CPU), {wr/med[name]:.1f}×"
cols = ["workers-deploy", "bundle-step"]
if base:
    cols += [f"workers-deploy ({base})", f"bundle-step ({base})"]
cols += ["esbuild-cli"]
print(f"| {sys.argv[2]} | {sys.argv[3]} | yes (GET / and /no-such-page: {sys.argv[4].strip()}) | "
      + " | ".join(cell(c) for c in cols) + f" | {wr*1000:.1f} ms ({cpu['wrangler']*1000:.0f} ms CPU) | {sys.argv[6]} |")
PY
  cd "$root"
done
cat "$work/table"

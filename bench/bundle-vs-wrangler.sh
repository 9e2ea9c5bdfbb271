#!/usr/bin/env bash
# Bundling from source: workers-deploy's in-process esbuild vs wrangler 4.85.0's
# `wrangler deploy --dry-run --outdir`, on the projects testdata/real/{durable-object,hono-ts,node-ts}, side by side in
# one hyperfine session per project (RUNS runs each after 1 warm-up, medians compared).
# Before timing, each project is bundled by both tools and checked: the same set of modules
# (wrangler's --outdir minus its README.md and source map), and the same answers to the
# project's `requests` when both bundles run in workerd through Miniflare (wrangler's own
# dependency). Neither tool talks to the API.
# Needs: go, node/npm, hyperfine (apt-get install hyperfine).
# Usage: bench/bundle-vs-wrangler.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# wrangler and the projects' one dependency, installed outside the repository (cached). A real
# project has wrangler as a dev dependency, so @cloudflare/unenv-preset and unenv are in its
# node_modules too, and the action polyfills exactly as wrangler does.
wr=${WRANGLER_DIR:-/tmp/wrangler-4.85.0-bundle}
if [ ! -x "$wr/node_modules/.bin/wrangler" ] || [ ! -d "$wr/node_modules/hono" ]; then
  mkdir -p "$wr"
  npm install --prefix "$wr" --no-audit --no-fund wrangler@4.85.0 hono@4.13.19 >/dev/null 2>&1
fi
export MINIFLARE_DIR="$wr/node_modules" WRANGLER_SEND_METRICS=false CI=true

CGO_ENABLED=0 go build -C "$root" -trimpath -ldflags "-s -w" -o "$work/workers-deploy" ./cmd/workers-deploy
go build -C "$root" -o "$work/dump" ./bench/bundle/dump

toml() { sed -n "s/^$1 = \"\(.*\)\"/\1/p" wrangler.toml | head -1; }
flags() { sed -n 's/^compatibility_flags = \[\(.*\)\]/\1/p' wrangler.toml | tr -d '" '; }
durable() { sed -n 's/^class_name = "\(.*\)"/\1/p' wrangler.toml | head -1; }

printf '| project | modules (both) | same answers in workerd | workers-deploy dry run (median) | wrangler deploy --dry-run --outdir (median) | faster |\n|---|---|---|---|---|---|\n' > "$work/table"
for src in "$root"/testdata/real/{durable-object,hono-ts,node-ts}/; do
  p=$(basename "$src")
  cp -r "$src" "$work/$p"
  ln -s "$wr/node_modules" "$work/$p/node_modules"
  cd "$work/$p"
  main=$(toml main) date=$(toml compatibility_date) fl=$(flags) do=$(durable)
  "$wr/node_modules/.bin/wrangler" deploy --dry-run --outdir "$work/out-wr-$p" > "$work/wr-$p.log" 2>&1 || { cat "$work/wr-$p.log"; exit 1; }
  "$work/dump" . "$main" "$work/out-ours-$p" "$date" "$fl" >/dev/null
  "$work/workers-deploy" --dry-run > "$work/ours-$p.log" 2>&1 || { cat "$work/ours-$p.log"; exit 1; }
  theirs=$(cd "$work/out-wr-$p" && ls | grep -v -e '^README.md$' -e '\.map$' | sort | tr '\n' ' ')
  ours=$(cd "$work/out-ours-$p" && ls | sort | tr '\n' ' ')
  # The action's own plan must list the same modules as the bundle checked in workerd.
  planned=$(sed -n 's/^  \([^ ]*\) \{1,\}application\/.*\|^  \([^ ]*\) \{1,\}text\/.*/\1\2/p' "$work/ours-$p.log" | sort | tr '\n' ' ')
  [ "$theirs" = "$ours" ] && [ "$ours" = "$planned" ] || { echo "$p: modules differ: wrangler [$theirs] ours [$ours] plan [$planned]" >&2; exit 1; }
  mapfile -t reqs < requests
  node "$root/bench/bundle/workerd-check.mjs" "$work/out-wr-$p" "$(basename "${main%.*}").js" "$date" "$fl" "${do:--}" "${reqs[@]}" > "$work/ans-wr-$p" 2>/dev/null
  node "$root/bench/bundle/workerd-check.mjs" "$work/out-ours-$p" "$(basename "${main%.*}").js" "$date" "$fl" "${do:--}" "${reqs[@]}" > "$work/ans-ours-$p" 2>/dev/null
  diff "$work/ans-wr-$p" "$work/ans-ours-$p" >&2 || { echo "$p: answers differ in workerd" >&2; exit 1; }
  echo "== $p: $(wc -l < "$work/ans-ours-$p") requests answered alike; modules: $ours" >&2
  hyperfine -N --style basic --warmup 1 --runs "$runs" --export-json "$work/h-$p.json" \
    -n workers-deploy "$work/workers-deploy --dry-run" \
    -n wrangler "$wr/node_modules/.bin/wrangler deploy --dry-run --outdir $work/tmp-out-$p" >&2
  python3 - "$work/h-$p.json" "$p" "$(echo "$ours" | wc -w)" >> "$work/table" <<'PY'
import json, statistics, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ours, theirs = statistics.median(r["workers-deploy"]["times"]), statistics.median(r["wrangler"]["times"])
print(f"| {sys.argv[2]} | {sys.argv[3]} | yes | {ours*1000:.1f} ms | {theirs*1000:.1f} ms | {theirs/ours:.0f}× |")
PY
  cd "$root"
done
cat "$work/table"

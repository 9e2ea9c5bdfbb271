#!/usr/bin/env bash
# Dry run of a 10-module Worker: workers-deploy vs wrangler 4.85.0's
# `wrangler versions upload --dry-run --no-bundle`, side by side in one hyperfine
# session, 5 runs each (after 1 warm-up), medians compared. Neither tool talks
# to the API. Needs: go, node/npm, hyperfine (apt-get install hyperfine).
# Usage: bench/dryrun-vs-wrangler.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# wrangler, installed outside the repository (cached between runs).
wr=${WRANGLER_DIR:-/tmp/wrangler-4.85.0}
if [ ! -x "$wr/node_modules/.bin/wrangler" ]; then
  mkdir -p "$wr"
  npm install --prefix "$wr" --no-audit --no-fund wrangler@4.85.0 >/dev/null 2>&1
fi

CGO_ENABLED=0 go build -C "$root" -trimpath -ldflags "-s -w" -o "$work/workers-deploy" ./cmd/workers-deploy

# A 10-module Worker: an entry that imports nine modules.
mkdir -p "$work/w/dist"
imports=""
for i in 1 2 3 4 5 6 7 8 9; do
  printf 'export const m%d = (x) => x * %d + %d;\n' "$i" "$i" "$i" > "$work/w/dist/m$i.mjs"
  imports+="import { m$i } from './m$i.mjs';"$'\n'
done
cat > "$work/w/dist/index.mjs" <<JS
${imports}export default {
  async fetch(req) {
    return new Response(String([m1, m2, m3, m4, m5, m6, m7, m8, m9].reduce((a, f) => f(a), 1)));
  },
};
JS
cat > "$work/w/wrangler.toml" <<TOML
name = "bench"
main = "dist/index.mjs"
compatibility_date = "2025-09-01"
find_additional_modules = true
# Without an explicit rule wrangler 4.85.0 attached none of the .mjs imports.
rules = [{ type = "ESModule", globs = ["**/*.mjs"], fallthrough = true }]
base_dir = "dist"
TOML

cd "$work/w"
# Both must succeed once before timing.
"$work/workers-deploy" --dry-run --modules 'dist/**' >/dev/null
"$wr/node_modules/.bin/wrangler" versions upload --dry-run --no-bundle > "$work/wr.out" 2>&1
# Check that wrangler really packed all ten modules (nine attached + the entry).
grep -q "Total (9 modules)" "$work/wr.out" || { cat "$work/wr.out"; echo "wrangler did not attach the 9 modules" >&2; exit 1; }
"$work/workers-deploy" --dry-run --modules 'dist/**' | grep -q "Bundle: 10 modules" || { echo "workers-deploy did not find 10 modules" >&2; exit 1; }

export WRANGLER_SEND_METRICS=false CI=true
hyperfine -N --style basic --warmup 1 --runs "$runs" --export-json "$work/h.json" \
  -n workers-deploy "$work/workers-deploy --dry-run --modules 'dist/**'" \
  -n wrangler "$wr/node_modules/.bin/wrangler versions upload --dry-run --no-bundle" >&2

python3 - "$work/h.json" <<'PY'
import json, statistics, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ours = statistics.median(r["workers-deploy"]["times"]) * 1000
theirs = statistics.median(r["wrangler"]["times"]) * 1000
print(f"median workers-deploy: {ours:.1f} ms ({len(r['workers-deploy']['times'])} runs)")
print(f"median wrangler 4.85.0: {theirs:.1f} ms ({len(r['wrangler']['times'])} runs)")
print(f"ratio: {theirs/ours:.0f}x faster")
PY

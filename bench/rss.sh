#!/usr/bin/env bash
# Peak RSS of workers-deploy uploading and deploying a 9 MiB bundle of 300
# incompressible modules to an existing Worker on a standalone emulator
# (a separate process, so only the action's memory is measured).
# Target: at most 2 x bundle + 20 MiB = 38 MiB. Median of RUNS runs.
# Usage: bench/rss.sh [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-5}
work=$(mktemp -d)
emu_pid=""
cleanup() { [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

CGO_ENABLED=0 go build -C "$root" -trimpath -o "$work/workers-deploy" ./cmd/workers-deploy
CGO_ENABLED=0 go build -C "$root" -trimpath -o "$work/workers-emulator" ./cmd/workers-emulator

mkdir -p "$work/w/dist"
echo 'export default { fetch() { return new Response("ok"); } };' > "$work/w/dist/index.mjs"
for i in $(seq 1 299); do head -c 31560 /dev/urandom > "$work/w/dist/blob$i.bin"; done
bundle=$(du -cb "$work/w/dist" | tail -1 | cut -f1)

port=$((20000 + RANDOM % 20000))
"$work/workers-emulator" -addr "127.0.0.1:$port" -token t > "$work/emu.log" 2>&1 &
emu_pid=$!
for _ in $(seq 50); do grep -q "http://" "$work/emu.log" 2>/dev/null && break; sleep 0.1; done

common=(--api-url "http://127.0.0.1:$port/client/v4" --api-token t --account-id 0123456789abcdef0123456789abcdef
        --worker rss --working-directory "$work/w" --compatibility-date 2025-09-01 --deploy)
# Make the Worker exist first (the target is for an existing Worker).
"$work/workers-deploy" "${common[@]}" --tag warmup >/dev/null

rss=()
for i in $(seq "$runs"); do
  /usr/bin/time -v "$work/workers-deploy" "${common[@]}" --tag "run-$i-$RANDOM" > "$work/out" 2> "$work/time"
  grep -q "deployed-percentage=100" "$work/out" || { cat "$work/out"; exit 1; }
  rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")")
done
python3 - "$bundle" "${rss[@]}" <<'PY'
import statistics, sys
bundle = int(sys.argv[1]); rss = [int(x) * 1024 for x in sys.argv[2:]]
mib = 1 << 20
limit = 2 * bundle + 20 * mib
med = statistics.median(rss)
print(f"bundle: {bundle / mib:.2f} MiB in 300 modules (incompressible)")
print(f"peak RSS per run (MiB): {', '.join(f'{x / mib:.1f}' for x in rss)}")
print(f"median peak RSS: {med / mib:.1f} MiB; limit 2 x bundle + 20 MiB = {limit / mib:.1f} MiB; {'OK' if med <= limit else 'OVER'}")
PY

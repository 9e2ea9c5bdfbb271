#!/bin/sh
# collect.sh re-copies the configurations from local mirrors of the source
# repositories (git directories given as TEMPLATES, AGENTS and SDK).
set -eu
cd "$(dirname "$0")/../.."
args=""
for f in $(git --git-dir "$TEMPLATES" ls-tree -r --name-only HEAD | grep -E '(^|/)wrangler\.(jsonc|json|toml)$'); do
	args="$args $TEMPLATES:cloudflare/templates:$f"
done
for f in $(git --git-dir "$AGENTS" ls-tree -r --name-only HEAD | grep -E '(^|/)wrangler\.(jsonc|json|toml)$' | grep -E '^(examples|guides|openai-sdk)/' | grep -v '/tests\?/'); do
	args="$args $AGENTS:cloudflare/agents:$f"
done
for f in $(git --git-dir "$SDK" ls-tree -r --name-only HEAD | grep -E '^fixtures/[^/]+/wrangler\.(jsonc|json|toml)$'); do
	args="$args $SDK:cloudflare/workers-sdk:$f"
done
go run ./testdata/wrangler-real/collect $args

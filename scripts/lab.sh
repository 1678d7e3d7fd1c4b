#!/usr/bin/env bash
# The main job on the embedded default: bring the example stack (or $1) up in the lab, with
# real Postfix, OpenDKIM, postsrsd and Knot in network namespaces, and print its report.
# Needs root. `npm run -s facteur -- lab down --stack example` takes it all down again.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-example}"
bash scripts/setup-system.sh >/dev/null
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
exec node_modules/.bin/tsx src/cli/bin.ts lab up --stack "$stack"

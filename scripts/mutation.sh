#!/usr/bin/env bash
# Mutation testing of the pure core (src/spec, src/model, src/plan, src/render) with StrykerJS
# and its command runner: every mutant is run against the fast in-process tests listed in
# test/support/mutation-suite.ts, bundled once per run into one module (scripts/stryker/bundle-suite.mjs).
# Not part of npm test: it is CPU-heavy (about 5,500 mutants, 3,300 of them in src/spec).
# Runs at low priority; MUTATION_CONCURRENCY (default 1) test processes at a time.
# The score is printed at the end, with the README's table per layer (scripts/stryker/score-table.mjs),
# and kept in reports/mutation/ (mutation.json, mutation.html);
# Stryker exits non-zero below the break threshold of stryker.config.json (85%).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null
status=0
nice -n "${MUTATION_NICE:-10}" node_modules/.bin/stryker run --concurrency "${MUTATION_CONCURRENCY:-1}" "$@" || status=$?
# The README's table, per layer, from the run's counts.
[ -s reports/mutation/progress.json ] && node scripts/stryker/score-table.mjs reports/mutation/progress.json --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
exit "$status"

#!/usr/bin/env bash
# The flake check of issue 11: the test suite N times in a row (default 5) while another lab
# stack runs beside it, untouched. Every run must pass, and after every run the neighbour must
# still be fully up (every daemon answering `lab status`) with the very same daemons (same
# Postfix master PIDs, same bring-up), proving the suite neither flakes under that load nor
# touches a stack it does not own.
#
# Usage (root):  bash scripts/flake-check.sh [--runs N] [--neighbour STACK] [--ci] [--keep]
#   --runs N          consecutive runs (default 5)
#   --neighbour NAME  the stack running beside the suite (default flake-nb, with the
#                     FACTEUR_LAB_TAG suffix when set). On a machine of your own, pass
#                     `--neighbour example` to run beside the user's stack itself: it is brought
#                     up from stacks/example.facteur.yaml first unless it already runs.
#   --ci              each run is a whole `bash .ci/run` (system packages, npm ci, npm test);
#                     default: `npm test`, what .ci/run runs after its set-up (done once here).
#   --keep            leave the neighbour up at the end
# Logs: one per run under $FLAKE_LOGS (default /tmp/facteur-flake-<time>/). The load average is
# printed before and after each run: numbers from a loaded machine say so.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=5 ci=0 keep=0
tag="${FACTEUR_LAB_TAG:-}"
neighbour="flake-nb${tag:+-$tag}"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --neighbour) neighbour="$2"; shift 2 ;;
    --ci) ci=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "flake-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "flake-check: needs root (the lab creates network namespaces)" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "flake-check: --runs needs a positive number" >&2; exit 2; }
# The tests refuse any other tag at load (test/support/labStacks.ts): say so before an hour of void runs.
[[ -z "$tag" || "$tag" =~ ^[a-z0-9]{1,4}$ ]] || { echo "flake-check: FACTEUR_LAB_TAG must be 1-4 of [a-z0-9], got \"$tag\"" >&2; exit 2; }

logs="${FLAKE_LOGS:-/tmp/facteur-flake-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$logs"
facteur() { node_modules/.bin/tsx src/cli/bin.ts "$@"; }
lab_root="/var/lib/facteur-lab/$neighbour" # LAB_ROOT of src/paths.ts

bash scripts/setup-system.sh >/dev/null
[ -d node_modules ] || npm ci --no-audit --no-fund >/dev/null

# The neighbour: the example's spec under its own name (or the example itself), left running.
started_here=0
if facteur lab status --stack "$neighbour" >/dev/null 2>&1; then
  echo "flake-check: neighbour stack $neighbour already up"
else
  stacks="$logs/stacks"
  mkdir -p "$stacks"
  cp stacks/example.facteur.yaml "$stacks/$neighbour.facteur.yaml"
  echo "flake-check: bringing up the neighbour stack $neighbour ..."
  facteur lab up --stack "$neighbour" --stacks "$stacks" >"$logs/neighbour-up.log" 2>&1 || { echo "flake-check: the neighbour did not come up, see $logs/neighbour-up.log" >&2; exit 1; }
  started_here=1
  grep -m1 "is up in" "$logs/neighbour-up.log" || true
fi
fingerprint() {
  # Its bring-up (state.json's startedMs) and every Postfix master's PID.
  { sed -n 's/.*"startedMs": \([0-9]*\).*/started \1/p' "$lab_root/state.json"
    for f in "$lab_root"/hosts/*/var/spool/postfix/pid/master.pid "$lab_root"/outside/*/var/spool/postfix/pid/master.pid; do
      [ -f "$f" ] && echo "$f $(tr -d ' \n' <"$f")"
    done; } | sort
}
before="$(fingerprint)"
[ -n "$before" ] || { echo "flake-check: no state for $neighbour under $lab_root" >&2; exit 1; }

passed=0 consecutive=0 best=0
summary=()
for i in $(seq 1 "$runs"); do
  load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
  t0=$(date +%s)
  log="$logs/run-$i.log"
  if [ "$ci" = 1 ]; then cmd=(bash .ci/run); else cmd=(npm test); fi
  set +e
  "${cmd[@]}" >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - t0 ))
  load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
  counts="$(grep -E '^# (tests|pass|fail) ' "$log" | tr '\n' ' ' | sed 's/# //g' || true)"
  failed="$(grep -E '^not ok' "$log" | sed 's/^not ok [0-9]* - //' | head -5 | tr '\n' ';' || true)"
  nb_status=0
  facteur lab status --stack "$neighbour" >"$logs/neighbour-status-$i.log" 2>&1 || nb_status=$?
  nb_same=yes
  [ "$(fingerprint)" = "$before" ] || nb_same=no
  verdict=PASS
  if [ "$rc" != 0 ] || [ "$nb_status" != 0 ] || [ "$nb_same" != yes ]; then verdict=FAIL; fi
  line="run $i/$runs: $verdict  ${secs}s  exit $rc  ${counts}| neighbour: status exit $nb_status, same daemons: $nb_same | load ${load_before} -> ${load_after}${failed:+ | failed: $failed}"
  echo "$line"
  summary+=("$line")
  if [ "$verdict" = PASS ]; then passed=$((passed + 1)); consecutive=$((consecutive + 1)); else consecutive=0; fi
  [ "$consecutive" -gt "$best" ] && best=$consecutive
done

if [ "$keep" = 0 ] && [ "$started_here" = 1 ]; then facteur lab down --stack "$neighbour" >/dev/null; fi
echo
echo "flake-check: $passed of $runs runs passed, longest streak $best, beside $neighbour (logs in $logs)"
printf '%s\n' "${summary[@]}" >"$logs/summary.txt"
[ "$passed" = "$runs" ]

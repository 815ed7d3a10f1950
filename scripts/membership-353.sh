#!/usr/bin/env bash
# The 3 -> 5 -> 3 membership proof (issue 14): five raftkv nodes of which
# n1..n3 found the cluster and n4, n5 start with --join; a write-heavy lin-kv
# load; at ~10 s the runner adds n4 and n5 as learners and promotes each once
# caught up; at ~30 s it removes two members, the leader of that moment first
# (it hands leadership over) and then another voter; then the load runs on.
# Prints the verdict, the longest stretch without an ok write against the
# election timeout, and where the plots are (membership changes are the
# dashed purple lines). Bounded: about a minute. Needs jq.
#
#   scripts/membership-353.sh [--build-dir D] [--store D] [--seed S]
#                             [--time-limit S] [--election-timeout-ms MS]
set -euo pipefail
cd "$(dirname "$0")/.."
build=build store="" seed=$RANDOM time_limit=45 election_ms=500
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --time-limit) time_limit=$2; shift 2 ;;
    --election-timeout-ms) election_ms=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "membership-353.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
if (( time_limit < 35 )); then
  echo "membership-353.sh: --time-limit must be at least 35 (the removals are at 30 s)" >&2
  exit 2
fi
for f in "$build/raftkv" "$build/maelstrom-runner"; do
  [ -x "$f" ] || { echo "membership-353.sh: $f not built (cmake --build $build --target raftkv maelstrom-runner)" >&2; exit 2; }
done
command -v jq > /dev/null || { echo "membership-353.sh: needs jq (scripts/setup.sh installs it)" >&2; exit 2; }
store=${store:-$(mktemp -d /tmp/raftkv-353.XXXXXX)}
mkdir -p "$store"

set +e
"$build/maelstrom-runner" test -w lin-kv --bin "$build/raftkv" \
  --initial-members 3 --member-plan 10:add:n4,10:add:n5,30:remove:leader,30:remove:any \
  --time-limit "$time_limit" --rate 200 --mix read=1,write=3,cas=1 --seed "$seed" \
  --store "$store" -- --data-dir . --election-timeout-ms "$election_ms" > "$store/runner.txt" 2>&1
rc=$?
set -e
run=$(readlink -f "$store/latest")
results="$run/results.json"
if [ ! -f "$results" ]; then
  cat "$store/runner.txt"
  echo "membership-353.sh: the runner failed before writing results (exit $rc)" >&2
  exit 2
fi

echo "== 3 -> 5 -> 3 (seed $seed, results in $run)"
jq -r '.nemesis[] | select(.f == "stop-member")
       | "  \(.time / 1e9 | . * 100 | floor / 100) s  \(.value.op) \(.value.node): \(.value.outcome)\(if .value.error then " (" + .value.error + ")" else "" end)"' "$results"
jq -r '"  final voters: \(.membership.final.voters | join(",")), leader \(.membership.final.leader)"' "$results"
jq -r '"  ops: \(.stats.ok) ok, \(.stats.fail) fail, \(.stats.info) info; linearizable: \(.linearizability["valid?"])"' "$results"
gap=$(jq '.["availability-gap"].steady["longest-ms"] // .["availability-gap"].run["longest-ms"]' "$results")
where=$(jq -r '.["availability-gap"].steady // .["availability-gap"].run | "\(.["from-s"] * 100 | floor / 100)-\(.["to-s"] * 100 | floor / 100) s"' "$results")
first=$(jq '.["availability-gap"].run["longest-ms"]' "$results")
printf '  longest write gap after warm-up: %.0f ms at %s (election timeout %d ms: %s)\n' \
  "$gap" "$where" "$election_ms" \
  "$(jq -n --argjson g "$gap" --argjson e "$election_ms" 'if $g <= $e then "within it" else "longer" end' -r)"
printf '  longest write gap over the whole run (includes the first election): %.0f ms\n' "$first"
# The longest write gap in [from, to] ns, from the history itself.
gap_in() {
  jq -s --argjson a "$1" --argjson b "$2" '
    [.[] | select(.type == "ok" and (.f == "write" or .f == "cas") and .time > $a and .time < $b)
     | .time] + [$a, $b] | sort | [range(1; length) as $i | .[$i] - .[$i - 1]] | max / 1e6' \
    "$run/history.jsonl"
}
# Each phase: from 1 s before its first change to 5 s after its last.
for phase in add:member_add,member_promote remove:member_remove; do
  name=${phase%%:*} ops=${phase#*:}
  span=$(jq -r --arg ops "$ops" '[.nemesis[] | select(.f == "stop-member"
           and (.value.op as $o | $ops | split(",") | index($o))) | .time]
           | if length > 0 then "\(min - 1e9) \(max + 5e9)" else "" end' "$results")
  [ -n "$span" ] || continue
  printf '  longest write gap around the %s phase (1 s before to 5 s after): %.0f ms\n' \
    "$name" "$(gap_in ${span% *} ${span#* })"
done
changes=$(jq '[.nemesis[] | select(.f == "stop-member" and .value.outcome == "ok")] | length' "$results")
echo "  plots: $run/latency-raw.png $run/rate.png; report: $run/index.html"
if [ "$rc" -eq 0 ] && [ "$changes" -eq 6 ]; then
  echo "VALID: 3 -> 5 -> 3 with $changes membership changes"
  exit 0
fi
echo "NOT VALID: runner exit $rc, $changes of 6 membership changes ok (see $store/runner.txt)"
exit 1

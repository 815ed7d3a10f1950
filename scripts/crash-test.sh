#!/usr/bin/env bash
# Crash-recovery test: a 5-node raftkv cluster under the lin-kv workload
# while the runner SIGKILLs nodes (one, a minority, a majority or all of
# them) at random moments every ~0.15 s on average and restarts them on
# the same data dirs (a few hundred kills a minute). Tiny compaction thresholds and
# snapshot chunks make kills land during batch writes, compactions and
# snapshot installs. Each iteration must be valid: linearizable, and every
# acknowledged write present in the final reads from every node.
#
#   scripts/crash-test.sh [--iterations N] [--time-limit S] [--seed S] [--build-dir D] [--store D]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=1 time_limit=60 seed=$RANDOM build=build store=store/crash
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) iterations=$2; shift 2 ;;
    --time-limit) time_limit=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    *) echo "crash-test: unknown option $1" >&2; exit 2 ;;
  esac
done
total_kills=0
for ((i = 0; i < iterations; i++)); do
  s=$((seed + i))
  echo "== crash test iteration $((i + 1))/$iterations, seed $s" >&2
  rc=0
  "$build/maelstrom-runner" test -w lin-kv --bin "$build/raftkv" --node-count 5 \
    --concurrency 2n --rate 300 --time-limit "$time_limit" --seed "$s" \
    --nemesis kill --nemesis-interval 0.15 --no-plots --store "$store" -- \
    --data-dir . --compact-threshold 40 --compact-max-lag 20 --snapshot-chunk-bytes 256 ||
    rc=$?
  kills=$(grep -c '"f":"start-kill"' "$store/latest/nemesis.jsonl" || true)
  total_kills=$((total_kills + kills))
  installs=$(cat "$store"/latest/node-logs/*.log | grep -c "installed snapshot" || true)
  echo "iteration $((i + 1)): exit $rc, $kills kill events, $installs snapshot installs" >&2
  if [ "$rc" -ne 0 ]; then
    echo "crash-test: FAILED (seed $s); replay: $0 --seed $s --time-limit $time_limit" >&2
    exit "$rc"
  fi
done
echo "crash-test: $iterations iteration(s) valid, $total_kills kill events in total" >&2

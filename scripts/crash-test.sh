#!/usr/bin/env bash
# Crash-recovery test: a 5-node raftkv cluster under the lin-kv workload
# while the runner SIGKILLs nodes (one, a minority, a majority or all of
# them) at random moments every ~0.15 s on average and restarts them on
# the same data dirs (a few hundred kills a minute). Tiny compaction thresholds and
# snapshot chunks make kills land during batch writes, compactions and
# snapshot installs. Each iteration must be valid: linearizable, and every
# acknowledged write present in the final reads from every node.
#
# --power: power loss instead of kill -9. Every node's data dir is its own
# lossyfs mount (tools/lossyfs); a cut SIGKILLs one, a minority, a majority
# or all nodes, drops everything their disks had not fsynced (tearing the
# last unsynced write at a random byte), and restarts them on what survived,
# every ~1 s on average. Needs root (FUSE) and build/lossyfs.
#
# --no-fsync: run raftkv with LD_PRELOAD=build/libnofsync_preload.so (fsync,
# fdatasync, sync_file_range, msync, syncfs, sync do nothing). The kill test
# still passes it; the power test must not (tests/durability/nofsync-check.sh).
#
#   scripts/crash-test.sh [--power] [--no-fsync] [--iterations N] [--time-limit S]
#                         [--nemesis-interval S] [--seed S] [--build-dir D] [--store D]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=1 time_limit=60 seed=$RANDOM build=build store="" power=0 nofsync=0 interval=""
while [ $# -gt 0 ]; do
  case "$1" in
    --iterations) iterations=$2; shift 2 ;;
    --time-limit) time_limit=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --store) store=$2; shift 2 ;;
    --power) power=1; shift ;;
    --no-fsync) nofsync=1; shift ;;
    --nemesis-interval) interval=$2; shift 2 ;;
    *) echo "crash-test: unknown option $1" >&2; exit 2 ;;
  esac
done
if [ "$power" = 1 ]; then
  # Exit 77 (ctest's SKIP_RETURN_CODE) only when FUSE truly cannot work here.
  if [ ! -r /dev/fuse ] || [ ! -w /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
    echo "crash-test: SKIPPED: --power needs FUSE (/dev/fuse read-write and fusermount3, Debian fuse3)" >&2
    exit 77
  fi
  nemesis=power interval=${interval:-0.5} store=${store:-store/power} mode=power
else
  nemesis=kill interval=${interval:-0.15} store=${store:-store/crash} mode=kill
fi
bin="$build/raftkv"
if [ "$nofsync" = 1 ]; then
  shim="$(cd "$build" && pwd)/libnofsync_preload.so"
  [ -f "$shim" ] || { echo "crash-test: $shim missing (build target nofsync_preload)" >&2; exit 2; }
  mkdir -p "$store"
  bin="$(cd "$store" && pwd)/raftkv-nofsync"
  printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' "$shim" "$(cd "$build" && pwd)/raftkv" >"$bin"
  chmod +x "$bin"
  mode="$mode, no-fsync"
fi
replay=""
[ "$power" = 1 ] && replay+="--power "
[ "$nofsync" = 1 ] && replay+="--no-fsync "
total_kills=0 total_cuts=0 total_restarts=0 total_installs=0 total_all=0 total_torn=0
for ((i = 0; i < iterations; i++)); do
  s=$((seed + i))
  echo "== crash test ($mode) iteration $((i + 1))/$iterations, seed $s" >&2
  rc=0
  "$build/maelstrom-runner" test -w lin-kv --bin "$bin" --node-count 5 \
    --concurrency 2n --rate 300 --time-limit "$time_limit" --seed "$s" \
    --nemesis "$nemesis" --nemesis-interval "$interval" --no-plots --store "$store" -- \
    --data-dir . --compact-threshold 40 --compact-max-lag 20 --snapshot-chunk-bytes 256 ||
    rc=$?
  installs=$(cat "$store"/latest/node-logs/n*[0-9].log | grep -c "installed snapshot" || true)
  total_installs=$((total_installs + installs))
  if [ "$power" = 1 ]; then
    cuts=$(grep -c '"f":"start-power"' "$store/latest/nemesis.jsonl" || true)
    all=$(grep '"f":"start-power"' "$store/latest/nemesis.jsonl" | grep -c '"spec":"all"' || true)
    ncuts=$(jq '.power["node-cuts"] // 0' "$store/latest/results.json" 2>/dev/null || echo 0)
    restarts=$(jq '.power["restarts-after-cut"] // 0' "$store/latest/results.json" 2>/dev/null || echo 0)
    torn=$(jq '.power["torn-bytes"] // 0' "$store/latest/results.json" 2>/dev/null || echo 0)
    total_cuts=$((total_cuts + cuts)) total_all=$((total_all + all))
    total_restarts=$((total_restarts + restarts)) total_torn=$((total_torn + torn))
    echo "iteration $((i + 1)): exit $rc, $cuts power cuts ($all of all nodes, $ncuts node cuts)," \
      "$restarts restarts after a cut, $torn torn bytes, $installs snapshot installs" >&2
  else
    kills=$(grep -c '"f":"start-kill"' "$store/latest/nemesis.jsonl" || true)
    total_kills=$((total_kills + kills))
    echo "iteration $((i + 1)): exit $rc, $kills kill events, $installs snapshot installs" >&2
  fi
  # A valid power iteration's disks (lossyfs backing dirs) are not needed.
  if [ "$rc" -eq 0 ] && [ "$power" = 1 ]; then rm -rf "$store/latest/lossyfs"; fi
  if [ "$rc" -ne 0 ]; then
    echo "crash-test: FAILED after $((i + 1)) iteration(s) (seed $s, $(jq -r '."valid?"' \
      "$store/latest/results.json" 2>/dev/null || echo '?')); replay: $0 $replay--seed $s --time-limit $time_limit" >&2
    exit "$rc"
  fi
done
if [ "$power" = 1 ]; then
  echo "crash-test ($mode): $iterations iteration(s) valid: $total_cuts power cuts" \
    "($total_all of all nodes), $total_restarts restarts after a cut, $total_torn torn bytes," \
    "$total_installs snapshot installs, 0 lost acknowledged writes" >&2
else
  echo "crash-test ($mode): $iterations iteration(s) valid, $total_kills kill events in total," \
    "$total_installs snapshot installs" >&2
fi

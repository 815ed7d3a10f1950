#!/usr/bin/env bash
# Proof that the power-loss crash test sees what kill -9 cannot: raftkv with
# fsync turned into a no-op (LD_PRELOAD shim, nofsync_preload.cc)
#   1. passes the kill crash test (the page cache survives SIGKILL), and
#   2. fails the power-loss crash test (lossyfs drops what was never synced):
#      lost acknowledged writes make the history invalid.
# Bounded for CI: one 20 s kill run, then power runs of 15 s until one is
# invalid, at most 3. Exit 0 when both hold.
#   tests/durability/nofsync-check.sh [--build-dir D]
set -uo pipefail
cd "$(dirname "$0")/../.."
build=build
[ "${1:-}" = --build-dir ] && build=$2
if [ ! -r /dev/fuse ] || [ ! -w /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
  echo "nofsync-check: SKIPPED: needs FUSE (/dev/fuse read-write and fusermount3, Debian fuse3)" >&2
  exit 0
fi
store=$(mktemp -d /tmp/raftkv-nofsync-XXXXXX)
trap 'rm -rf "$store"' EXIT

echo "== no-fsync variant under kill -9 (must stay valid)" >&2
scripts/crash-test.sh --no-fsync --iterations 1 --time-limit 20 --seed 11 \
  --build-dir "$build" --store "$store/kill" >"$store/kill.log" 2>&1
rc=$?
tail -n 2 "$store/kill.log" >&2
if [ "$rc" -ne 0 ]; then
  echo "nofsync-check: FAILED: the kill test should pass the no-fsync variant (exit $rc)" >&2
  tail -n 30 "$store/kill.log" >&2
  exit 1
fi

echo "== no-fsync variant under power cuts (must be caught)" >&2
scripts/crash-test.sh --power --no-fsync --iterations 3 --time-limit 15 --seed 1 \
  --build-dir "$build" --store "$store/power" >"$store/power.log" 2>&1
rc=$?
grep -E '^iteration|FAILED|valid:' "$store/power.log" >&2
case "$rc" in
  1) echo "nofsync-check: ok: power cuts caught the missing fsync (invalid history," \
       "lost acknowledged writes); kill -9 did not" >&2
     exit 0 ;;
  0) echo "nofsync-check: FAILED: 3 power-loss iterations did not catch the no-fsync variant" >&2
     exit 1 ;;
  *) echo "nofsync-check: FAILED: power test error (exit $rc)" >&2
     tail -n 30 "$store/power.log" >&2
     exit 1 ;;
esac

#!/usr/bin/env bash
# The one command that builds and runs every test: installs what is missing,
# builds Release and runs all of ctest; then rebuilds the unit, simulation
# and single-process end-to-end suites with ASan+UBSan, and the checker
# (the one multi-threaded component) with TSan, and runs them again. The
# multi-process suites (runner, cluster, crash) run in the Release build.
# Last, each libFuzzer target replays its corpus and fuzzes for
# FUZZ_SECONDS (20) seconds (scripts/fuzz.sh).
#   SKIP_SANITIZERS=1 scripts/test.sh   # Release pass only
#   SKIP_FUZZ=1 scripts/test.sh         # no fuzzing stage
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
jobs=${JOBS:-$(nproc)}
# Each stage says how long the previous ones took (the CI budget is ~25 min).
stage() { echo "== [$((SECONDS / 60))m$((SECONDS % 60))s] $*" >&2; }
# Sanitizer builds: -O1 with line tables only compiles ~2.4x faster than
# RelWithDebInfo's -O2 -g (measured on one test file: 16 s vs 38 s) and still
# gives file:line in every report.
# Not a unity build: for this smaller set of targets a unity build left one
# core idle most of the time (12.2 min wall for 13.0 min of CPU).
san_flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  -DCMAKE_UNITY_BUILD=OFF)

stage "Release build and all tests"
./scripts/build.sh
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  # serve mode's multi-process tests (serve.*) run in the Release pass only.
  stage "ASan+UBSan: unit, simulation and single-process end-to-end tests"
  cmake -S . -B build-asan "${san_flags[@]}" \
    -DRAFTKV_SANITIZE=address,undefined -DRAFTKV_WITH_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$jobs" --target raftkv maelstrom_test kv_test storage_test \
    kv_store_crash_writer storage_contract_test contract_crash_child raft_test \
    raft_interaction_test sim_test linearizability_test e2e_test e2e_memory_test durability_test \
    resp_test resp_redis_tools_test wire_test net_test serve_unit_test
  RAFTKV_SIM_SEEDS_PER_CASE=8 \
    ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs" \
    -L '^(maelstrom|kv|storage|raft|sim|linearizability|e2e|durability|resp|wire|net|serve)$' \
    -E '^serve[._]' \
    -LE '^(slow|runner|cluster|etcd-adapter)$'

  stage "TSan: the checker's worker pool"
  cmake -S . -B build-tsan "${san_flags[@]}" -DRAFTKV_SANITIZE=thread \
    -DRAFTKV_WITH_BENCH=OFF >/dev/null
  cmake --build build-tsan -j "$jobs" --target linearizability_test
  TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure -j "$jobs" \
    -L '^linearizability$'
fi
stage "Durability: no-fsync variant passes kill -9 but is caught by power cuts (lossyfs)"
# ~60 s: raftkv under an LD_PRELOAD shim that makes fsync a no-op must survive
# the kill crash test and fail the power-loss crash test.
tests/durability/nofsync-check.sh --build-dir build

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
  stage "libFuzzer: codec, raft codec, whole node, RESP parsers (${FUZZ_SECONDS:-20} s each)"
  ./scripts/fuzz.sh --seconds "${FUZZ_SECONDS:-20}"
fi
stage "all tests passed"

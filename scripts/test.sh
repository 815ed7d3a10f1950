#!/usr/bin/env bash
# The one command that builds and runs every test: installs what is missing,
# builds Release and runs all of ctest, then builds the unit and simulation
# tests with ASan+UBSan and runs them (the end-to-end tests, which spawn
# processes for tens of seconds, run in the Release build only).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

echo "== Release build and all tests"
./scripts/build.sh
ctest --test-dir build --output-on-failure -j "${JOBS:-$(nproc)}"

if [ "${SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== ASan+UBSan build: unit and simulation tests"
  BUILD_DIR=build-asan BUILD_TYPE=RelWithDebInfo ./scripts/build.sh \
    -DRAFTKV_SANITIZE=address,undefined -DRAFTKV_WITH_BENCH=OFF
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "${JOBS:-$(nproc)}" -LE slow
fi
echo "== all tests passed"

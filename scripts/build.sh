#!/usr/bin/env bash
# Configures and builds raftkv into build/ (Release unless BUILD_TYPE says
# otherwise). Extra arguments go to cmake's configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
"$PWD/scripts/setup.sh"
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-Release}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}"

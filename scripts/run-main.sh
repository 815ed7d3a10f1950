#!/usr/bin/env bash
# The main job: build, then run a 5-node raftkv cluster under the lin-kv
# workload with partitions, kills and pauses, and print the verdict.
# Arguments are passed to the runner before the node options, e.g.
#   scripts/run-main.sh --time-limit 120 --seed 7
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
exec build/maelstrom-runner test -w lin-kv --bin build/raftkv --node-count 5 \
  --concurrency 2n --time-limit 60 --rate 200 --nemesis partition,kill,pause \
  --nemesis-interval 5 "$@" -- --data-dir .

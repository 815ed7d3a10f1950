#!/usr/bin/env bash
# Stops the cluster started by start-etcd.sh DIR and removes its data dirs
# (logs stay in DIR for a post-mortem).
#   bench/etcd/stop-etcd.sh DIR
set -uo pipefail

DIR=${1:?usage: stop-etcd.sh DIR}
PIDS=()
if [ -f "$DIR/etcd.pids" ]; then
  for pid in $(cat "$DIR/etcd.pids"); do
    # Only signal a real pid that is still an etcd: pids get reused.
    [[ $pid =~ ^[0-9]+$ && $pid -gt 1 ]] || continue
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = etcd ]; then
      kill -TERM "$pid" 2>/dev/null && PIDS+=("$pid")
    fi
  done
fi
for _ in $(seq 50); do
  alive=0
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ $alive -eq 0 ] && break
  sleep 0.1
done
for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
rm -rf "$DIR"/e*.data "$DIR/etcd.pids"

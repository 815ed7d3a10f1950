#!/usr/bin/env bash
# A local raftkv cluster in serve mode, on 127.0.0.1.
#
#   scripts/cluster.sh start [N]   start N servers (default 3); builds first if needed
#   scripts/cluster.sh status      which servers run, and who leads
#   scripts/cluster.sh stop        SIGTERM every server (graceful), SIGKILL after 10 s
#
# Server i (1-based) listens for peers on 127.0.0.1:$((PEER_BASE+i)), for Redis
# clients on 127.0.0.1:$((CLIENT_BASE+i)) and for Prometheus on
# 127.0.0.1:$((METRICS_BASE+i)). State, logs and pid files live under
# $RAFTKV_CLUSTER_DIR (default .cluster/); data survives stop/start.
# Extra arguments after N go to every server (e.g. --compact-threshold 1000).
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${RAFTKV_CLUSTER_DIR:-.cluster}
PEER_BASE=${PEER_BASE:-7000}
CLIENT_BASE=${CLIENT_BASE:-6380}
METRICS_BASE=${METRICS_BASE:-9100}
BIN=${RAFTKV_BIN:-build/raftkv}

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
}

running_pids() {
  for f in "$DIR"/n*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then echo "$(basename "$f" .pid) $pid"; fi
  done
}

start() {
  local n=${1:-3}
  shift || true
  case $n in '' | *[!0-9]*) echo "cluster.sh: N must be a number, got '$n'" >&2; exit 2 ;; esac
  if [ -n "$(running_pids)" ]; then
    echo "cluster.sh: a cluster is already running in $DIR (scripts/cluster.sh stop first)" >&2
    exit 1
  fi
  if [ -f "$DIR/members" ] && [ "$(cat "$DIR/members")" != "$n" ]; then
    echo "cluster.sh: $DIR holds a $(cat "$DIR/members")-server cluster; its member list is" \
      "fixed. Remove $DIR to start a different size." >&2
    exit 1
  fi
  [ -x "$BIN" ] || scripts/build.sh
  mkdir -p "$DIR"
  echo "$n" >"$DIR/members"
  local peers=""
  for i in $(seq 1 "$n"); do peers+="${peers:+,}n$i=127.0.0.1:$((PEER_BASE + i))"; done
  for i in $(seq 1 "$n"); do
    "$BIN" serve --id "n$i" --peers "$peers" --client "127.0.0.1:$((CLIENT_BASE + i))" \
      --metrics "127.0.0.1:$((METRICS_BASE + i))" --data-dir "$DIR/data" "$@" \
      >>"$DIR/n$i.log" 2>&1 &
    echo $! >"$DIR/n$i.pid"
  done
  sleep 0.5
  for i in $(seq 1 "$n"); do
    if ! kill -0 "$(cat "$DIR/n$i.pid")" 2>/dev/null; then
      echo "cluster.sh: n$i exited at start; its log ($DIR/n$i.log) ends with:" >&2
      tail -5 "$DIR/n$i.log" >&2
      stop >/dev/null
      exit 1
    fi
  done
  echo "started $n servers (data and logs in $DIR/):"
  for i in $(seq 1 "$n"); do
    echo "  n$i  redis-cli -p $((CLIENT_BASE + i))   metrics http://127.0.0.1:$((METRICS_BASE + i))/metrics"
  done
  echo "any member serves every command (followers forward to the leader), e.g."
  echo "  redis-cli -p $((CLIENT_BASE + 1)) SET a 1 && redis-cli -p $((CLIENT_BASE + n)) GET a"
}

status() {
  local any=0
  while read -r id pid; do
    [ -n "$id" ] || continue
    any=1
    i=${id#n}
    role=$(redis-cli -p $((CLIENT_BASE + i)) INFO raft 2>/dev/null | tr -d '\r' |
      awk -F: '/^role:/{r=$2} /^term:/{t=$2} END{if (r) print r" (term "t")"}')
    echo "$id pid $pid  port $((CLIENT_BASE + i))  ${role:-not answering}"
  done <<<"$(running_pids)"
  [ $any = 1 ] || echo "no servers running in $DIR"
}

stop() {
  local pids
  pids=$(running_pids | awk '{print $2}')
  [ -n "$pids" ] || { echo "no servers running in $DIR"; return 0; }
  kill -TERM $pids 2>/dev/null || true
  for _ in $(seq 1 100); do
    alive=0
    for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
  rm -f "$DIR"/n*.pid
  echo "stopped"
}

case ${1:-} in
  start) shift; start "$@" ;;
  status) status ;;
  stop) stop ;;
  -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# A local raftkv cluster in serve mode, on 127.0.0.1.
#
#   scripts/cluster.sh start [N]   start N servers (default 3); builds first if needed
#   scripts/cluster.sh status      which servers run, and who leads
#   scripts/cluster.sh stop        SIGTERM every server (graceful), SIGKILL after 10 s
#   scripts/cluster.sh add I       start server nI with --join, add it as a learner
#                                  through the leader, promote it once caught up
#   scripts/cluster.sh remove I    remove nI from the cluster (through the leader),
#                                  then stop it
#
# Server i (1-based) listens for peers on 127.0.0.1:$((PEER_BASE+i)), for Redis
# clients on 127.0.0.1:$((CLIENT_BASE+i)) and for Prometheus on
# 127.0.0.1:$((METRICS_BASE+i)). State, logs and pid files live under
# $RAFTKV_CLUSTER_DIR (default .cluster/); data survives stop/start, and so
# do membership changes (start restarts the servers added, not the removed).
# Extra arguments after N go to every server (e.g. --compact-threshold 1000).
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${RAFTKV_CLUSTER_DIR:-.cluster}
PEER_BASE=${PEER_BASE:-7000}
CLIENT_BASE=${CLIENT_BASE:-6380}
METRICS_BASE=${METRICS_BASE:-9100}
BIN=${RAFTKV_BIN:-build/raftkv}

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'
}

# Membership bookkeeping: $DIR/members holds the founders' count (their
# --peers never change: a server's data is tied to its founding list),
# $DIR/joined and $DIR/removed the servers added and removed since.
listed() { [ -f "$DIR/$1" ] && grep -qx "$2" "$DIR/$1"; }
founders() { seq 1 "$(cat "$DIR/members")"; }
servers() {
  { founders; [ -f "$DIR/joined" ] && cat "$DIR/joined"; } | while read -r i; do
    listed removed "$i" || echo "$i"
  done
}
is_server() {
  local all
  all=$(servers)
  grep -qx "$1" <<<"$all"
}
peer() { echo "n$1=127.0.0.1:$((PEER_BASE + $1))"; }
peer_list() { local p=""; for i in "$@"; do p+="${p:+,}$(peer "$i")"; done; echo "$p"; }

# Starts server i: founders with the founders as --peers, joined servers
# with every server and --join.
launch() {
  local i=$1
  shift
  local flags=(--peers "$(peer_list $(founders))")
  if listed joined "$i"; then
    flags=(--peers "$(peer_list $(servers | grep -vx "$i") "$i")" --join)
  fi
  "$BIN" serve --id "n$i" "${flags[@]}" --client "127.0.0.1:$((CLIENT_BASE + i))" \
    --metrics "127.0.0.1:$((METRICS_BASE + i))" --data-dir "$DIR/data" "$@" \
    >>"$DIR/n$i.log" 2>&1 &
  echo $! >"$DIR/n$i.pid"
}

# The client port of the server every running server names as leader.
leader_port() {
  for _ in $(seq 1 100); do
    for i in $(servers); do
      local l
      l=$(redis-cli -p $((CLIENT_BASE + i)) INFO raft 2>/dev/null | tr -d '\r' |
        awk -F: '/^role:leader/{print "yes"}')
      if [ "$l" = yes ]; then echo $((CLIENT_BASE + i)); return 0; fi
    done
    sleep 0.1
  done
  echo "cluster.sh: no leader found" >&2
  return 1
}

# Sends an admin command to the leader until it is not TRYAGAIN; prints the
# reply. $1: seconds to keep trying.
admin() {
  local seconds=$1
  shift
  local reply=""
  for _ in $(seq 1 $((seconds * 5))); do
    reply=$(redis-cli -p "$(leader_port)" "$@" 2>&1)
    case $reply in TRYAGAIN*) sleep 0.2 ;; *) break ;; esac
  done
  echo "$reply"
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
    echo "cluster.sh: $DIR was founded by $(cat "$DIR/members") servers; change its size" \
      "with add/remove, or remove $DIR to start a different size." >&2
    exit 1
  fi
  [ -x "$BIN" ] || scripts/build.sh
  mkdir -p "$DIR"
  echo "$n" >"$DIR/members"
  echo "$*" >"$DIR/args"
  for i in $(servers); do launch "$i" "$@"; done
  sleep 0.5
  for i in $(servers); do
    if ! kill -0 "$(cat "$DIR/n$i.pid")" 2>/dev/null; then
      echo "cluster.sh: n$i exited at start; its log ($DIR/n$i.log) ends with:" >&2
      tail -5 "$DIR/n$i.log" >&2
      stop >/dev/null
      exit 1
    fi
  done
  echo "started $(servers | wc -l) servers (data and logs in $DIR/):"
  for i in $(servers); do
    echo "  n$i  redis-cli -p $((CLIENT_BASE + i))   metrics http://127.0.0.1:$((METRICS_BASE + i))/metrics"
  done
  local all first last
  all=$(servers)
  first=${all%%$'\n'*}
  last=${all##*$'\n'}
  echo "any member serves every command (followers forward to the leader), e.g."
  echo "  redis-cli -p $((CLIENT_BASE + first)) SET a 1 && redis-cli -p $((CLIENT_BASE + last)) GET a"
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

add() {
  local i=${1:-}
  case $i in '' | *[!0-9]*) echo "cluster.sh: add needs a server number, got '$i'" >&2; exit 2 ;; esac
  [ -f "$DIR/members" ] || { echo "cluster.sh: no cluster in $DIR (start first)" >&2; exit 1; }
  if is_server "$i"; then echo "cluster.sh: n$i is already a member" >&2; exit 1; fi
  if listed removed "$i"; then
    echo "cluster.sh: n$i was removed; its data cannot rejoin (use a new number)" >&2
    exit 1
  fi
  echo "$i" >>"$DIR/joined"
  local args
  read -r -a args <"$DIR/args" || true
  launch "$i" "${args[@]}"
  sleep 0.5
  if ! kill -0 "$(cat "$DIR/n$i.pid")" 2>/dev/null; then
    echo "cluster.sh: n$i exited at start; its log ($DIR/n$i.log) ends with:" >&2
    tail -5 "$DIR/n$i.log" >&2
    sed -i "/^$i\$/d" "$DIR/joined"
    exit 1
  fi
  local reply
  reply=$(admin 10 RAFT.MEMBER ADD "n$i" "127.0.0.1:$((PEER_BASE + i))" LEARNER)
  [ "$reply" = OK ] || { echo "cluster.sh: adding n$i as a learner: $reply" >&2; exit 1; }
  echo "n$i added as a learner; promoting once it has caught up"
  reply=$(admin 60 RAFT.MEMBER PROMOTE "n$i")
  [ "$reply" = OK ] || { echo "cluster.sh: promoting n$i: $reply" >&2; exit 1; }
  echo "n$i is a voter  redis-cli -p $((CLIENT_BASE + i))"
}

remove() {
  local i=${1:-}
  case $i in '' | *[!0-9]*) echo "cluster.sh: remove needs a server number, got '$i'" >&2; exit 2 ;; esac
  [ -f "$DIR/members" ] || { echo "cluster.sh: no cluster in $DIR" >&2; exit 1; }
  if ! is_server "$i"; then echo "cluster.sh: n$i is not a member" >&2; exit 1; fi
  local reply
  reply=$(admin 10 RAFT.MEMBER REMOVE "n$i")
  [ "$reply" = OK ] || { echo "cluster.sh: removing n$i: $reply" >&2; exit 1; }
  echo "$i" >>"$DIR/removed"
  local pid
  pid=$(cat "$DIR/n$i.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$DIR/n$i.pid"
  echo "n$i removed and stopped (its data stays in $DIR/data/n$i)"
}

case ${1:-} in
  start) shift; start "$@" ;;
  add) add "${2:-}" ;;
  remove) remove "${2:-}" ;;
  status) status ;;
  stop) stop ;;
  -h | --help) usage ;;
  *) usage >&2; exit 2 ;;
esac

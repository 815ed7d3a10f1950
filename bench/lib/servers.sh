# shellcheck shell=bash
# Start and stop the servers bench/serve-compare measures: raftkv serve
# clusters, Redis and etcd, each fresh, on 127.0.0.1, with data under a
# directory the caller owns. Sourced after common.sh.
#
# Every start_* sets SERVER_PIDS (space-separated) and SERVER_PORT (where the
# load goes: the leader's client port for raftkv; redis' port) or
# SERVER_ENDPOINTS (etcd). stop_servers stops whatever is running.

SERVER_PIDS="" SERVER_PORT="" SERVER_ENDPOINTS="" SERVER_ETCD_DIR=""

# Ports: one base per system kind, far from the defaults (6379, 2379, 7001...)
# so a developer's own servers never collide. SERVE_PORT_BASE moves them all.
PORT_BASE=${SERVE_PORT_BASE:-27100}
RAFTKV_PEER_PORT=$((PORT_BASE + 1))    # n1..n3: +1..+3
RAFTKV_CLIENT_PORT=$((PORT_BASE + 11)) # n1..n3: +11..+13
REDIS_PORT=$((PORT_BASE + 20))
ETCD_CLIENT_BASE=$((PORT_BASE + 31)) # e0..e2: +31..+33
ETCD_PEER_BASE=$((PORT_BASE + 41))   # e0..e2: +41..+43

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

check_ports_free() {
  local p
  for p in "$@"; do
    port_busy "$p" && die "port $p on 127.0.0.1 is in use (set SERVE_PORT_BASE to move all ports)"
  done
  return 0
}

# utime+stime in clock ticks, summed over the pids (the comm field may hold
# spaces: fields are counted after its closing parenthesis).
cpu_ticks() {
  local pid sum=0 rest
  for pid in "$@"; do
    rest=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null) || return 1
    sum=$((sum + $(awk '{ print $12 + $13 }' <<<"$rest")))
  done
  echo $sum
}
CLK_TCK=$(getconf CLK_TCK)

# Waits until cmd succeeds (every 0.1 s) for up to $1 seconds.
wait_until() {
  local limit=$1
  shift
  local deadline=$((SECONDS + limit))
  until "$@"; do
    [ $SECONDS -ge $deadline ] && return 1
    sleep 0.1
  done
}

all_alive() {
  local pid
  for pid in $SERVER_PIDS; do kill -0 "$pid" 2>/dev/null || return 1; done
}

# ---- raftkv serve ----------------------------------------------------------

# Serve mode's help names --peers; without serve mode raftkv prints its
# Maelstrom help for "serve --help" (and exits 0), so the exit code says nothing.
raftkv_serve_available() { "$BUILD/raftkv" serve --help 2>&1 | grep -q -- '--peers'; }

# The client port of the member whose INFO says role:leader, if any.
raftkv_leader_port() {
  local i
  for i in $(seq "$1"); do
    local port=$((RAFTKV_CLIENT_PORT + i - 1))
    if timeout 2 redis-cli -p "$port" INFO 2>/dev/null | tr -d '\r' | grep -qx 'role:leader'; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# A leader is known, or a server has exited (no use waiting longer).
raftkv_settled() { ! all_alive || raftkv_leader_port "$1" >/dev/null; }

# start_raftkv N DIR: a fresh N-server cluster with data in DIR/nK.
start_raftkv() {
  local n=$1 dir=$2 peers="" i
  for i in $(seq "$n"); do
    peers+="${peers:+,}n$i=127.0.0.1:$((RAFTKV_PEER_PORT + i - 1))"
    check_ports_free $((RAFTKV_PEER_PORT + i - 1)) $((RAFTKV_CLIENT_PORT + i - 1))
  done
  SERVER_PIDS=""
  for i in $(seq "$n"); do
    mkdir -p "$dir/n$i"
    "$BUILD/raftkv" serve --id "n$i" --peers "$peers" \
      --client "127.0.0.1:$((RAFTKV_CLIENT_PORT + i - 1))" --data-dir "$dir/n$i" \
      </dev/null >"$dir/n$i.log" 2>&1 &
    SERVER_PIDS+="${SERVER_PIDS:+ }$!"
  done
  if ! wait_until 30 raftkv_settled "$n" || ! all_alive; then
    tail -n 5 "$dir"/n*.log >&2
    local why="elected no leader within 30 s"
    all_alive || why="lost a server at start"
    stop_servers
    die "raftkv ($n servers) $why; logs above"
  fi
  SERVER_PORT=$(raftkv_leader_port "$n")
}

# ---- Redis -------------------------------------------------------------------

redis_ready() { [ "$(timeout 2 redis-cli -p "$REDIS_PORT" PING 2>/dev/null)" = PONG ]; }

# start_redis DIR: the durable single-node anchor (AOF, fsync on every write).
start_redis() {
  local dir=$1
  check_ports_free "$REDIS_PORT"
  mkdir -p "$dir"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" --save "" \
    --appendonly yes --appendfsync always --daemonize no --logfile "$dir/redis.log" \
    </dev/null >/dev/null 2>&1 &
  SERVER_PIDS=$!
  if ! wait_until 20 redis_ready; then
    tail -n 5 "$dir/redis.log" >&2
    stop_servers
    die "redis-server did not answer PING within 20 s"
  fi
  SERVER_PORT=$REDIS_PORT
}

# ---- etcd ---------------------------------------------------------------------

# start_etcd N DIR: a fresh N-member etcd (bench/etcd/start-etcd.sh).
start_etcd() {
  local n=$1 i cports="" pports=""
  for i in 0 1 2; do
    cports+=" $((ETCD_CLIENT_BASE + i))"
    pports+=" $((ETCD_PEER_BASE + i))"
  done
  SERVER_ETCD_DIR=$2
  SERVER_ENDPOINTS=$(ETCD_CLIENT_PORTS=$cports ETCD_PEER_PORTS=$pports etcd_start "$2" "$n") ||
    die "etcd ($n members) did not start; see $2/e*.log"
  SERVER_PIDS=$(etcd_pids "$2" | tr ',' ' ')
  [ "$(wc -w <<<"$SERVER_PIDS")" = "$n" ] || die "expected $n etcd pids, got '$SERVER_PIDS'"
}

# ---- stop ---------------------------------------------------------------------

# SIGTERM (raftkv: graceful stop), up to 10 s, then SIGKILL. Only the pids we
# started. Never fails (it runs in EXIT traps under set -e): pids that are
# already gone are fine.
stop_servers() {
  if [ -n "$SERVER_ETCD_DIR" ]; then
    etcd_stop "$SERVER_ETCD_DIR" # checks each pid is still an etcd
    SERVER_ETCD_DIR="" SERVER_PIDS=""
  fi
  local pid alive
  for pid in $SERVER_PIDS; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 100); do
    alive=0
    for pid in $SERVER_PIDS; do kill -0 "$pid" 2>/dev/null && alive=1 || true; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in $SERVER_PIDS; do
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid ignored SIGTERM for 10 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS="" SERVER_PORT="" SERVER_ENDPOINTS=""
  return 0
}

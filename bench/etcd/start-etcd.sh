#!/usr/bin/env bash
# Starts a fresh etcd cluster (3 members unless told) on 127.0.0.1 for benchmarks.
#
#   bench/etcd/start-etcd.sh [DIR [MEMBERS]]   # DIR defaults to a new mktemp dir; MEMBERS [3], at most one per port given
#
# Prints the comma-separated client endpoints as the only line on stdout
# (so EP=$(start-etcd.sh DIR) works); everything else goes to stderr.
# DIR gets eN.data (data dirs), eN.log (warn-level logs) and etcd.pids.
# Stop with bench/etcd/stop-etcd.sh DIR.
#
# Ports avoid etcd's defaults (2379/2380): installing Debian's etcd-server on
# a systemd machine starts a system etcd there. Override with
# ETCD_CLIENT_PORTS / ETCD_PEER_PORTS (space-separated, at least MEMBERS ports each).
# fsync stays at etcd's default (on): these numbers are for durable writes.
set -euo pipefail

CLIENT_PORTS=(${ETCD_CLIENT_PORTS:-12379 22379 32379})
PEER_PORTS=(${ETCD_PEER_PORTS:-12380 22380 32380})
HEALTH_TIMEOUT_S=${ETCD_HEALTH_TIMEOUT_S:-30}

if ! command -v etcd >/dev/null; then
  echo "start-etcd: installing etcd-server" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update >&2
  $SUDO apt-get install -y etcd-server >&2
fi

DIR=${1:-$(mktemp -d -t raftkv-etcd.XXXXXX)}
MEMBERS=${2:-3}
if ! [[ $MEMBERS =~ ^[1-9]$ ]] || [ "$MEMBERS" -gt ${#CLIENT_PORTS[@]} ] || [ "$MEMBERS" -gt ${#PEER_PORTS[@]} ]; then
  echo "start-etcd: MEMBERS must be 1..${#CLIENT_PORTS[@]} (one client and one peer port each), got '$MEMBERS'" >&2
  exit 1
fi
CLIENT_PORTS=("${CLIENT_PORTS[@]:0:MEMBERS}")
PEER_PORTS=("${PEER_PORTS[@]:0:MEMBERS}")
MEMBER_IDX=$(seq 0 $((MEMBERS - 1)))
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ -s "$DIR/etcd.pids" ]; then
  echo "start-etcd: $DIR/etcd.pids exists; run stop-etcd.sh $DIR first" >&2
  exit 1
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "${CLIENT_PORTS[@]}" "${PEER_PORTS[@]}"; do
  if port_busy "$p"; then
    echo "start-etcd: port $p is in use (a system etcd? set ETCD_CLIENT_PORTS/ETCD_PEER_PORTS)" >&2
    exit 1
  fi
done

cluster=""
endpoints=""
for i in $MEMBER_IDX; do
  cluster+="${cluster:+,}e$i=http://127.0.0.1:${PEER_PORTS[$i]}"
  endpoints+="${endpoints:+,}http://127.0.0.1:${CLIENT_PORTS[$i]}"
done
token="raftkv-bench-$$-$(date +%s)"  # a fresh cluster identity every run

: >"$DIR/etcd.pids"
for i in $MEMBER_IDX; do
  rm -rf "$DIR/e$i.data"
  etcd --name "e$i" --data-dir "$DIR/e$i.data" \
    --listen-client-urls "http://127.0.0.1:${CLIENT_PORTS[$i]}" \
    --advertise-client-urls "http://127.0.0.1:${CLIENT_PORTS[$i]}" \
    --listen-peer-urls "http://127.0.0.1:${PEER_PORTS[$i]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${PEER_PORTS[$i]}" \
    --initial-cluster "$cluster" --initial-cluster-token "$token" \
    --initial-cluster-state new \
    --logger zap --log-level warn --log-outputs "$DIR/e$i.log" \
    </dev/null >>"$DIR/e$i.log" 2>&1 &
  echo $! >>"$DIR/etcd.pids"
done

healthy() {
  if command -v etcdctl >/dev/null; then
    ETCDCTL_API=3 etcdctl --endpoints "$endpoints" --command-timeout=2s endpoint health \
      >/dev/null 2>&1
  else
    for p in "${CLIENT_PORTS[@]}"; do
      curl -sf --max-time 2 "http://127.0.0.1:$p/health" | grep -q '"health":"true"' || return 1
    done
  fi
}

deadline=$((SECONDS + HEALTH_TIMEOUT_S))
until healthy; do
  for pid in $(cat "$DIR/etcd.pids"); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "start-etcd: etcd pid $pid exited; logs:" >&2
      tail -n 5 "$DIR"/e*.log >&2
      "$(dirname "$0")/stop-etcd.sh" "$DIR"
      exit 1
    fi
  done
  if [ $SECONDS -ge $deadline ]; then
    echo "start-etcd: cluster not healthy after ${HEALTH_TIMEOUT_S}s" >&2
    "$(dirname "$0")/stop-etcd.sh" "$DIR"
    exit 1
  fi
  sleep 0.2
done

echo "start-etcd: $MEMBERS member(s) healthy, $(etcd --version | head -1), dir $DIR" >&2
echo "$endpoints"

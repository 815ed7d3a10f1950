# Shared helpers of bench/write-throughput and bench/compare-etcd. Sourced
# (not run), after `set -euo pipefail`. Uses build/ like a user would.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD="$REPO/${BUILD_DIR:-build}"  # scripts/build.sh honours BUILD_DIR too
RUNNER="$BUILD/maelstrom-runner"

log() { echo "[$(date +%T)] $*" >&2; }
die() {
  echo "error: $*" >&2
  exit 2
}

# jq summarises results.json; Debian has it, scripts/setup.sh does not list it.
need_jq() {
  command -v jq >/dev/null && return
  log "installing jq"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update >&2
  $sudo apt-get install -y --no-install-recommends jq >&2
}

# Release build of everything into build/ (scripts/build.sh), unless skipped.
build_release() {
  if [ "${1:-1}" = 1 ]; then
    log "building Release into build/ (scripts/build.sh)"
    RAFTKV_BENCH=1 BUILD_TYPE=Release "$REPO/scripts/build.sh" >&2
  fi
  [ -x "$RUNNER" ] && [ -x "$BUILD/raftkv" ] || die "build/ lacks maelstrom-runner or raftkv"
}

# Single-threaded fdatasync/s in DIR (the disk the nodes write to).
fsync_rate() {
  local probe="$BUILD/fsync-probe" src="$REPO/bench/lib/fsync-probe.c"
  if [ ! -x "$probe" ] || [ "$src" -nt "$probe" ]; then
    cc -O2 -o "$probe" "$src" || die "cannot compile $src"
  fi
  "$probe" "$1" "${2:-1}"
}

load1() { cut -d' ' -f1 /proc/loadavg; }

# Waits (up to 10 minutes) until the 1-minute load average is below $1:
# on 2 cores a concurrent build halves the numbers.
wait_for_load() {
  local max=$1 deadline=$((SECONDS + 600))
  while awk -v l="$(load1)" -v m="$max" 'BEGIN { exit !(l >= m) }'; do
    [ $SECONDS -ge $deadline ] && { log "load still $(load1) >= $max; going on"; return; }
    log "load $(load1) >= $max; waiting"
    sleep 15
  done
}

# The allowed client count (a multiple of 2 x nodes, at least one group)
# closest to $1 for $2 nodes.
round_clients() {
  awk -v c="$1" -v n="$2" 'BEGIN { g = 2 * n; k = int(c / g + 0.5); if (k < 1) k = 1; print k * g }'
}

# Header lines describing the machine and moment of a run (markdown list).
env_header() {
  local dir=$1
  echo "- date: $(date -Is), host $(hostname), $(nproc) cores, $(uname -r)"
  echo "- raftkv: $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(
    git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null || echo ' + uncommitted src changes')"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- fdatasync/s (one thread, 128-byte appends, $(df -PT "$dir" | awk 'NR==2 { print $2 }')): $(fsync_rate "$dir")"
}

# Runs one runner test in STORE; prints the path of its results.json (empty
# if the runner failed before writing one). Runner output goes to STORE/runner.log.
run_point() {
  local store=$1
  shift
  mkdir -p "$store"
  local rc=0
  "$RUNNER" test -w lin-kv --store "$store" "$@" >"$store/runner.log" 2>&1 || rc=$?
  if [ -f "$store/latest/results.json" ]; then
    # Node data dirs are large and not needed afterwards.
    [ "${KEEP_DATA:-0}" = 1 ] || rm -rf "$store"/lin-kv/*/nodes
    echo "$store/latest/results.json"
  else
    log "runner failed (exit $rc); see $store/runner.log"
    tail -n 5 "$store/runner.log" >&2
  fi
}

# One JSON object of the numbers the tables use, from a results.json.
# Steady-window figures: the warm-up (first election) is left out.
summarise() {
  jq -c '{valid: .["valid?"],
    ok_s: (.steady["ok-per-s"] // .throughput["ok-per-s"]),
    p50: (.steady["latency-ms"].p50 // .["latency-ms"].p50),
    p95: (.steady["latency-ms"].p95 // .["latency-ms"].p95),
    p99: (.steady["latency-ms"].p99 // .["latency-ms"].p99),
    fail: (.steady.fail // .stats.fail), info: (.steady.info // .stats.info),
    node_us: .cpu["us-per-ok-op"]["nodes-steady"],
    ext_us: (.cpu["us-per-ok-op"]["external-steady"] // null),
    runner_us: .cpu["us-per-ok-op"]["runner-steady"],
    leader_fsyncs_s: (.["node-stats"].leader["fsyncs-per-s"] // null),
    leader_entries_per_fsync: (.["node-stats"].leader["entries-per-fsync"] // null),
    cluster_fsyncs_s: (.["node-stats"].cluster["fsyncs-per-s"] // null),
    check_s: .linearizability["checker-seconds"]}' "$1"
}

# Builds build/etcd-loadgen (offline, GOPATH mode) unless it is up to date.
build_loadgen() {
  "$REPO/bench/etcd-loadgen/build.sh" "$BUILD/etcd-loadgen" || die "cannot build bench/etcd-loadgen"
}

# Starts a fresh etcd cluster of $2 members with data in $1; prints its
# client endpoints. Ports come from ETCD_CLIENT_PORTS / ETCD_PEER_PORTS.
etcd_start() {
  "$REPO/bench/etcd/start-etcd.sh" "$1" "$2"
}

# Stops the cluster in $1 (if any) and deletes its data; logs stay.
etcd_stop() {
  if [ -f "$1/etcd.pids" ]; then "$REPO/bench/etcd/stop-etcd.sh" "$1"; fi
}

# Comma-separated pids of the cluster in $1 that really are etcd (pids get reused).
etcd_pids() {
  local pid out=""
  for pid in $(cat "$1/etcd.pids" 2>/dev/null); do
    [[ $pid =~ ^[0-9]+$ && $pid -gt 1 ]] || continue
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = etcd ] && out+="${out:+,}$pid"
  done
  echo "$out"
}

# The numbers the tables use, from one etcd-loadgen JSON line on stdin.
summarise_loadgen() {
  jq -c '{ok_s: .ops_per_s, p50: .p50_ms, p99: .p99_ms, node_us: .cpu_us_per_op,
    client_us: .client_cpu_us_per_op, errors: .errors, leader: .endpoints[0]}'
}

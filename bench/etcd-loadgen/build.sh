#!/usr/bin/env bash
# Builds bench/etcd-loadgen into build/etcd-loadgen, offline: GOPATH mode
# against the Go sources Debian installs under /usr/share/gocode
# (golang-etcd-server-dev ships go.etcd.io/etcd/clientv3 and its
# dependencies; golang-go is Go 1.19). No module download happens.
#   bench/etcd-loadgen/build.sh [OUT]   # OUT defaults to build/etcd-loadgen
set -euo pipefail
SRC=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$SRC/../.." && pwd)
OUT=${1:-$REPO/${BUILD_DIR:-build}/etcd-loadgen}
DEBIAN_GOPATH=/usr/share/gocode

if ! command -v go >/dev/null || [ ! -d "$DEBIAN_GOPATH/src/go.etcd.io/etcd/clientv3" ]; then
  echo "etcd-loadgen: installing golang-go and golang-etcd-server-dev" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update >&2
  $SUDO apt-get install -y --no-install-recommends golang-go golang-etcd-server-dev >&2
fi

# Up to date: nothing to do (the bench scripts call this every run).
if [ -x "$OUT" ] && [ -z "$(find "$SRC" -name '*.go' -newer "$OUT")" ]; then exit 0; fi

mkdir -p "$(dirname "$OUT")"
WORK=$(mktemp -d -t etcd-loadgen-build.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# GOPATH mode wants the program inside a GOPATH: a build-local one holds it,
# Debian's supplies every import.
mkdir -p "$WORK/gopath/src/raftkv-bench"
cp "$SRC"/*.go "$WORK/gopath/src/raftkv-bench/"
cd "$WORK/gopath/src/raftkv-bench"
GO111MODULE=off GOFLAGS= GOPROXY=off GOPATH="$WORK/gopath:$DEBIAN_GOPATH" \
  GOCACHE="${GOCACHE:-$(dirname "$OUT")/.gocache}" \
  go build -o "$OUT" .
echo "etcd-loadgen: built $OUT" >&2

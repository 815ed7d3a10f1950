#!/usr/bin/env bash
# Installs the Debian packages raftkv needs to build and test (and, with
# RAFTKV_BENCH=1, to benchmark).
# Idempotent: when everything is present it only runs dpkg-query and exits.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  librocksdb-dev nlohmann-json3-dev libfmt-dev libgtest-dev libbenchmark-dev
  gnuplot-nox jq libcurl4-openssl-dev libcli11-dev
  clang libclang-rt-14-dev
  libfuse3-dev fuse3
  iproute2 nftables redis-server
  redis-tools
  chromium fonts-dejavu-core
)

# Only the benchmarks need these (bench/serve-compare and bench/compare-etcd:
# etcd, and bench/etcd-loadgen's Go toolchain and etcd client sources, built
# in GOPATH mode); the bench scripts set RAFTKV_BENCH=1.
if [ "${RAFTKV_BENCH:-0}" = 1 ]; then
  PACKAGES+=(redis-server redis-tools etcd-server etcd-client golang-go golang-etcd-server-dev)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${missing[@]}"

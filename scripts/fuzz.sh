#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer, clang, ASan+UBSan) of the wire codec,
# the Raft message decoder, the binary peer codec (src/wire), a whole node
# fed a byte stream, and the RESP request and reply parsers; the targets
# and their seed corpora live in tests/fuzz/.
#
#   scripts/fuzz.sh                      # build, replay the corpora, fuzz each target 60 s
#   scripts/fuzz.sh --seconds 3600       # long mode
#   scripts/fuzz.sh --target node        # one target (codec, raft_codec, node, wire,
#                                        #   resp_request, resp_reply)
#   scripts/fuzz.sh --seconds 0          # replay the checked-in corpora only (regressions)
#
# Each target first replays tests/fuzz/corpus/<target>/ (the seeds and every
# past crash, kept as regression inputs), then fuzzes for the given time.
# New interesting inputs go to build-fuzz/work/<target>/ (not checked in). A
# crash leaves its input in build-fuzz/artifacts/<target>/ and fails the run:
# fix it, copy the input into tests/fuzz/corpus/<target>/ and add a unit test.
# Targets run JOBS (default: the core count) at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
targets=(codec raft_codec node wire resp_request resp_reply)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --target) targets=("$2"); shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

./scripts/setup.sh
BUILD_DIR=${FUZZ_BUILD_DIR:-build-fuzz}
CXX=clang++ cmake -S tests/fuzz -B "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" -j "${JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=3:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
# One target: replay its corpus, report its known failures, then fuzz.
fuzz_one() {
  local t=$1
  local bin="$BUILD_DIR/fuzz_$t" seeds="tests/fuzz/corpus/$t" work="$BUILD_DIR/work/$t"
  local artifacts="$BUILD_DIR/artifacts/$t/" log="$BUILD_DIR/fuzz_$t.log"
  mkdir -p "$work" "$artifacts"
  echo "== fuzz_$t: replaying $seeds" >&2
  if ! "$bin" -runs=0 -timeout=30 -artifact_prefix="$artifacts" "$seeds" >"$log" 2>&1; then
    echo "fuzz_$t: a checked-in corpus input fails (see $log)" >&2
    tail -40 "$log" >&2
    return 1
  fi
  # Known failures outside the codec (tests/fuzz/known/README.md): reported, not fatal.
  if [ -d "tests/fuzz/known/$t" ]; then
    for k in "tests/fuzz/known/$t"/*; do
      if "$bin" -runs=1 "$k" >"$log.known" 2>&1; then
        echo "fuzz_$t: known input $k now PASSES: move it into $seeds/" >&2
      else
        echo "fuzz_$t: known input $k still fails (tests/fuzz/known/README.md)" >&2
      fi
    done
  fi
  [ "$seconds" -gt 0 ] || return 0
  echo "== fuzz_$t: fuzzing for ${seconds}s" >&2
  if ! "$bin" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -max_len=8192 \
      -print_final_stats=1 -artifact_prefix="$artifacts" "$work" "$seeds" >"$log" 2>&1; then
    echo "fuzz_$t: FAILED; the input is in $artifacts (log: $log)" >&2
    grep -a -E "ERROR|VIOLATED|SUMMARY|Test unit written" "$log" >&2 || tail -40 "$log" >&2
    return 1
  fi
  local runs rate cov
  runs=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  rate=$(grep -a 'stat::average_exec_per_sec' "$log" | awk '{print $2}')
  cov=$(grep -a -o 'cov: [0-9]*' "$log" | tail -1)
  echo "fuzz_$t: ok: $runs inputs, $rate/s, $cov edges, corpus $(ls "$work" | wc -l) new + $(ls "$seeds" | wc -l) seeds" >&2
}

# Targets run side by side, one per core: each still fuzzes for --seconds.
status=0
running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "${JOBS:-$(nproc)}" ]; then
    wait -n || status=1
    running=$((running - 1))
  fi
  fuzz_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || status=1
  running=$((running - 1))
done
exit $status

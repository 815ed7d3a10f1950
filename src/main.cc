// raftkv: one server of a Raft-replicated, linearizable key-value store that
// speaks the Maelstrom protocol on stdin/stdout. Logs go to stderr only.
#include <signal.h>
#include <stdlib.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>

#include "maelstrom/event_loop.h"
#include "maelstrom/node.h"

namespace {

constexpr const char* kUsage = R"(usage: raftkv [options]

A Raft-replicated, linearizable key-value store speaking the Maelstrom
protocol (lin-kv workload: read, write, cas) on stdin/stdout.

options:
  --data-dir DIR            keep state in DIR/<node_id>/ (survives restarts);
                            default: a fresh temporary dir removed at exit
  --election-timeout-ms N   follower election timeout, randomised in [N, 2N) (default 500)
  --heartbeat-ms N          leader heartbeat interval (default 50)
  --tick-ms N               Raft clock resolution (default 10)
  --read-mode index|log     index: ReadIndex (leader confirms with a heartbeat
                            quorum, no log write); log: reads go through the log
                            (default index)
  --forward-timeout-ms N    a request forwarded to the leader with no answer after
                            N ms gets an indefinite error (default 5000)
  --max-line-bytes N        longest accepted input line (default 67108864)
  --max-append-bytes N      most entry bytes in one AppendEntries (default 1048576)
  --max-inflight N          AppendEntries in flight per follower (default 64)
  --compact-threshold N     compact the log once it holds more than N applied
                            entries (default 10000)
  --compact-max-lag N       a leader keeps at most N entries for lagging live
                            followers; further behind they get a snapshot (default 10000)
  --snapshot-chunk-bytes N  InstallSnapshot chunk size (default 1048576)
  --snapshot-timeout-ms N   abort a snapshot transfer after N ms without an ack (default 5000)
  --stats-interval-ms N     print a stats line on stderr every N ms (default 0: off)
  --seed N                  seed for election timeouts (default: random)
  --help                    show this help
)";

bool parse_int(const char* s, long long* out) {
  auto [p, ec] = std::from_chars(s, s + std::strlen(s), *out);
  return ec == std::errc() && *p == '\0' && *out >= 0;
}

void on_signal(int) {
  raftkv::maelstrom::request_stop();
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  raftkv::maelstrom::NodeOptions opts;
  raftkv::maelstrom::LoopOptions loop;
  std::random_device rd;
  opts.seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  int stats_ms = 0;

  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::cerr << kUsage;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "raftkv: " << a << ": missing value or unknown option\n" << kUsage;
      return 2;
    }
    const char* v = argv[++i];
    long long n = 0;
    auto need_int = [&](long long min) {
      if (!parse_int(v, &n) || n < min) {
        std::cerr << "raftkv: " << a << " needs an integer >= " << min << ", got \"" << v << "\"\n";
        exit(2);
      }
      return static_cast<int>(n);
    };
    if (a == "--data-dir") {
      opts.data_dir = v;
    } else if (a == "--election-timeout-ms") {
      opts.election_timeout_ms = need_int(1);
    } else if (a == "--heartbeat-ms") {
      opts.heartbeat_ms = need_int(1);
    } else if (a == "--tick-ms") {
      opts.tick_ms = need_int(1);
    } else if (a == "--read-mode") {
      if (std::string(v) == "index") {
        opts.read_mode = raftkv::maelstrom::ReadMode::kIndex;
      } else if (std::string(v) == "log") {
        opts.read_mode = raftkv::maelstrom::ReadMode::kLog;
      } else {
        std::cerr << "raftkv: --read-mode must be index or log\n";
        return 2;
      }
    } else if (a == "--forward-timeout-ms") {
      opts.forward_timeout_ms = need_int(1);
    } else if (a == "--max-line-bytes") {
      loop.max_line_bytes = static_cast<size_t>(need_int(1024));
    } else if (a == "--max-append-bytes") {
      opts.max_append_bytes = static_cast<size_t>(need_int(1));
    } else if (a == "--max-inflight") {
      opts.max_inflight = static_cast<size_t>(need_int(1));
    } else if (a == "--compact-threshold") {
      opts.compact_threshold = static_cast<uint64_t>(need_int(1));
    } else if (a == "--compact-max-lag") {
      opts.compact_max_lag = static_cast<uint64_t>(need_int(0));
    } else if (a == "--snapshot-chunk-bytes") {
      opts.snapshot_chunk_bytes = static_cast<size_t>(need_int(1));
    } else if (a == "--snapshot-timeout-ms") {
      opts.snapshot_timeout_ms = need_int(1);
    } else if (a == "--stats-interval-ms") {
      stats_ms = need_int(0);
    } else if (a == "--seed") {
      if (!parse_int(v, &n)) {
        std::cerr << "raftkv: --seed needs a non-negative integer\n";
        return 2;
      }
      opts.seed = static_cast<uint64_t>(n);
    } else {
      std::cerr << "raftkv: unknown option " << a << "\n" << kUsage;
      return 2;
    }
  }
  if (opts.heartbeat_ms >= opts.election_timeout_ms) {
    std::cerr << "raftkv: --heartbeat-ms must be below --election-timeout-ms\n";
    return 2;
  }
  loop.tick_ms = opts.tick_ms;
  loop.stats_interval_ms = stats_ms;

  std::string temp_dir;
  if (opts.data_dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "raftkv-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      std::cerr << "raftkv: cannot create a temporary data dir: " << std::strerror(errno) << "\n";
      return 1;
    }
    temp_dir = opts.data_dir = tmpl;
    std::cerr << "raftkv: no --data-dir given; using temporary " << temp_dir
              << " (removed at exit)\n";
  }

  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);

  int rc;
  {
    raftkv::maelstrom::Output out;
    raftkv::maelstrom::Node node(
        opts, [&out](std::string line) { out.line(std::move(line)); }, [&out] { out.flush(); });
    rc = raftkv::maelstrom::run_event_loop(node, out, loop);
    if (node.fatal()) {
      // Fail-stop: leave without closing the stores. A clean close flushes
      // and syncs again on a disk that just failed (after a failed fsync
      // that is the retry we must not make; RocksDB even asserts on it).
      out.flush();
      std::cerr.flush();
      if (!temp_dir.empty()) {
        std::error_code ec;
        fs::remove_all(temp_dir, ec);
      }
      std::_Exit(1);
    }
  }
  if (!temp_dir.empty()) {
    std::error_code ec;
    fs::remove_all(temp_dir, ec);
  }
  return rc;
}

// The server core's tuning flags, shared by the Maelstrom mode and serve
// mode so that both take the same names, ranges and defaults.
#pragma once

#include <limits>
#include <optional>
#include <string>

#include "cli/flags.h"
#include "server/core.h"

namespace raftkv::cli {

inline void add_core_flags(CLI::App& app, server::CoreOptions& opts) {
  constexpr long long kMax = std::numeric_limits<int>::max();
  add_int(app, "--election-timeout-ms", &opts.election_timeout_ms, 1, kMax,
          "follower election timeout, randomised in [N, 2N)");
  add_int(app, "--heartbeat-ms", &opts.heartbeat_ms, 1, kMax,
          "leader heartbeat interval (below --election-timeout-ms)");
  add_int(app, "--tick-ms", &opts.tick_ms, 1, kMax, "Raft clock resolution");
  app.add_option_function<std::string>(
         "--read-mode",
         [&opts](const std::string& v) {
           if (v == "index") {
             opts.read_mode = server::ReadMode::kIndex;
           } else if (v == "log") {
             opts.read_mode = server::ReadMode::kLog;
           } else {
             throw CLI::ValidationError("--read-mode", "must be index or log, got \"" + v + "\"");
           }
         },
         "index: ReadIndex (the leader confirms with a heartbeat quorum, no log write); "
         "log: reads go through the log")
      ->type_name("index|log")
      ->default_str("index");
  add_int(app, "--forward-timeout-ms", &opts.forward_timeout_ms, 1, kMax,
          "a request forwarded to the leader with no answer after N ms (or once a newer leader "
          "is known) gets an error: outcome unknown for a write, unavailable for a read");
  add_int(app, "--max-append-bytes", &opts.max_append_bytes, 1, kMax,
          "most entry bytes in one AppendEntries");
  add_int(app, "--max-inflight", &opts.max_inflight, 1, kMax,
          "AppendEntries in flight per follower");
  add_int(app, "--compact-threshold", &opts.compact_threshold, 1, kMax,
          "compact the log once it holds more than N applied entries");
  add_int(app, "--compact-bytes", &opts.compact_bytes, 1024, kMax,
          "... or once the log holds more than N bytes of entry data (bounds memory with "
          "large values)");
  add_int(app, "--compact-max-lag", &opts.compact_max_lag, 0, kMax,
          "a leader keeps at most N entries for lagging live followers; further behind they "
          "get a snapshot");
  add_int(app, "--snapshot-chunk-bytes", &opts.snapshot_chunk_bytes, 1, kMax,
          "InstallSnapshot chunk size");
  add_int(app, "--snapshot-timeout-ms", &opts.snapshot_timeout_ms, 1, kMax,
          "abort a snapshot transfer after N ms without an ack");
  app.add_flag("--join", opts.join,
               "start with no configuration and wait for the leader to add this server "
               "(a new or replacement server joining a running cluster; never campaigns before)");
  app.add_option_function<std::string>(
         "--initial-members",
         [&opts](const std::string& v) {
           opts.initial_members.clear();
           std::string::size_type start = 0;
           while (start <= v.size()) {
             auto end = v.find(',', start);
             if (end == std::string::npos) end = v.size();
             std::string id = v.substr(start, end - start);
             if (id.empty()) {
               throw CLI::ValidationError("--initial-members",
                                          "a comma-separated list of node ids, got \"" + v + "\"");
             }
             opts.initial_members.push_back(id);
             start = end + 1;
           }
         },
         "the voters a fresh cluster starts with (default: every known node); the others "
         "start with --join")
      ->type_name("ID,ID,...");
  add_int(app, "--max-promote-lag", &opts.max_promote_lag, 0, kMax,
          "a learner is promoted to voter only within N entries of the leader's log");
  add_int(app, "--seed", &opts.seed, 0, std::numeric_limits<long long>::max(),
          "seed for the randomised election timeouts")
      ->default_str("random");
}

// A combination of flags that cannot work, or nullopt.
inline std::optional<std::string> check_core_flags(const server::CoreOptions& opts) {
  if (opts.heartbeat_ms >= opts.election_timeout_ms) {
    return "--heartbeat-ms must be below --election-timeout-ms";
  }
  if (opts.join && !opts.initial_members.empty()) {
    return "--join and --initial-members exclude each other: a joining server is added by the "
           "leader";
  }
  return std::nullopt;
}

}  // namespace raftkv::cli

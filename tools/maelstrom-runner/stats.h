// Summary numbers of a run, computed from the op records and network counters.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "history_log.h"
#include "network.h"

namespace runner {

struct LatencySummary {
  double p50 = 0, p95 = 0, p99 = 0, max = 0;  // milliseconds
  int64_t n = 0;
};

// Ok ops that completed inside [from_s, to_s] of the workload: the steady
// window, which leaves out the first leader election.
struct WindowStats {
  double from_s = 0, to_s = 0;
  int64_t ok = 0, fail = 0, info = 0;  // completed in the window
  double ok_per_s = 0;
  std::map<std::string, double> ok_per_s_by_f;
  LatencySummary latency;
  std::map<std::string, LatencySummary> latency_by_f;
};

// The longest stretch of a window with no ok write or cas completing: how
// long clients could not change anything (e.g. across a leader change).
struct WriteGap {
  double ms = 0;
  double from_s = 0, to_s = 0;  // where it was, in workload seconds
  int64_t ok_writes = 0;        // ok write/cas completions in the window
};
WriteGap longest_write_gap(const std::vector<OpRecord>& ops, double from_s, double to_s);

struct RunStats {
  // f -> type -> count, workload ops only (final reads are listed apart).
  std::map<std::string, std::map<std::string, int64_t>> by_f;
  int64_t ops = 0, ok = 0, info = 0, fail = 0, pending = 0;
  double availability = 0;  // ok / completed
  LatencySummary latency;   // of ok workload ops
  std::map<std::string, LatencySummary> latency_by_f;
  double duration_s = 0;
  double throughput_ok = 0;     // ok ops per second of workload
  double throughput_total = 0;  // completed ops per second
  std::map<std::string, double> throughput_ok_by_f;
  std::optional<WindowStats> steady;  // absent when the window is empty
  WriteGap write_gap;                 // 0 .. time limit
  WriteGap steady_write_gap;          // the steady window
  int64_t final_reads = 0, final_reads_ok = 0;
  NetStats net;
  double server_msgs_per_op = 0;
  double all_msgs_per_op = 0;
};

// Quantile q in [0,1] of sorted values (nearest rank).
double quantile(const std::vector<double>& sorted, double q);

LatencySummary summarize_latency(std::vector<double> ms);

// steady_from_s/steady_to_s: the steady window (e.g. warm-up .. time limit).
RunStats compute_stats(const std::vector<OpRecord>& ops, const NetStats& net, double duration_s,
                       double steady_from_s = 0, double steady_to_s = 0);

}  // namespace runner

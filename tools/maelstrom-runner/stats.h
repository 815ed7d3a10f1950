// Summary numbers of a run, computed from the op records and network counters.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "history_log.h"
#include "network.h"

namespace runner {

struct LatencySummary {
  double p50 = 0, p95 = 0, p99 = 0, max = 0;  // milliseconds
  int64_t n = 0;
};

struct RunStats {
  // f -> type -> count, workload ops only (final reads are listed apart).
  std::map<std::string, std::map<std::string, int64_t>> by_f;
  int64_t ops = 0, ok = 0, info = 0, fail = 0, pending = 0;
  double availability = 0;  // ok / completed
  LatencySummary latency;   // of ok workload ops
  double duration_s = 0;
  double throughput_ok = 0;     // ok ops per second of workload
  double throughput_total = 0;  // completed ops per second
  int64_t final_reads = 0, final_reads_ok = 0;
  NetStats net;
  double server_msgs_per_op = 0;
  double all_msgs_per_op = 0;
};

// Quantile q in [0,1] of sorted values (nearest rank).
double quantile(const std::vector<double>& sorted, double q);

RunStats compute_stats(const std::vector<OpRecord>& ops, const NetStats& net, double duration_s);

}  // namespace runner

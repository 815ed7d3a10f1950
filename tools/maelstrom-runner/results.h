// results.json and the terminal summary of one run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli.h"
#include "history_log.h"
#include "linearizability/checker.h"
#include "metrics.h"
#include "problems.h"
#include "stats.h"

namespace runner {

// CPU seconds (cumulative) of every node, the runner and --cpu-pids processes
// at one moment of the run.
struct CpuPoint {
  std::vector<double> nodes;
  double runner = 0;
  std::vector<std::optional<double>> external;  // nullopt: process gone
};

struct Resources {
  std::vector<std::string> node_ids;
  std::vector<int> node_starts;
  std::vector<int> external_pids;
  // begin: before nodes start; start/warm/end: workload start, end of
  // warm-up, time limit; exit: nodes stopped. runner_exit: after checking.
  CpuPoint begin, start, warm, end, exit;
  double runner_exit = 0;
  std::vector<NodeStatsSummary> node_stats;
};

struct RunResult {
  lin::CheckReport check;
  RunStats stats;
  std::optional<double> availability_required;
  bool availability_ok = true;
  lin::Verdict verdict = lin::Verdict::kUnknown;  // overall
  int64_t final_unread = 0;
  Resources resources;
  nlohmann::json power;       // --nemesis power counters (Cluster::power_summary), or null
  nlohmann::json net;         // --net netns: connections, partitions, faults (NetnsMode::summary)
  nlohmann::json membership;  // member nemesis / --member-plan (MemberNemesis::summary), or null
};

lin::Verdict overall_verdict(const RunResult& r);
int exit_code(lin::Verdict v);  // 0 valid, 1 invalid, 2 unknown

void write_results_json(const std::string& path, const Options& opts, const RunResult& r,
                        const HistoryLog& history, const Problems& problems);

std::string summary_text(const RunResult& r, const Problems& problems);

// Human-readable report of the invalid keys (key + smallest bad window).
std::string violations_text(const lin::CheckReport& report, size_t max_keys = 3);

}  // namespace runner

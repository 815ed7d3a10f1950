// results.json and the terminal summary of one run.
#pragma once

#include <optional>
#include <string>

#include "cli.h"
#include "history_log.h"
#include "linearizability/checker.h"
#include "problems.h"
#include "stats.h"

namespace runner {

struct RunResult {
  lin::CheckReport check;
  RunStats stats;
  std::optional<double> availability_required;
  bool availability_ok = true;
  lin::Verdict verdict = lin::Verdict::kUnknown;  // overall
  int64_t final_unread = 0;
};

lin::Verdict overall_verdict(const RunResult& r);
int exit_code(lin::Verdict v);  // 0 valid, 1 invalid, 2 unknown

void write_results_json(const std::string& path, const Options& opts, const RunResult& r,
                        const HistoryLog& history, const Problems& problems);

std::string summary_text(const RunResult& r, const Problems& problems);

// Human-readable report of the invalid keys (key + smallest bad window).
std::string violations_text(const lin::CheckReport& report, size_t max_keys = 3);

}  // namespace runner

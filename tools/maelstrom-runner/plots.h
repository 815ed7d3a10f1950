// PNG plots through gnuplot, as Jepsen's perf checker draws them: latency of
// every op over time, latency quantiles and throughput over time, with
// nemesis periods shaded. Missing gnuplot is a warning, not a failure.
#pragma once

#include <string>

#include "history_log.h"

namespace runner {

// Writes latency-raw.png, latency-quantiles.png and rate.png into dir.
// Returns false (with *warning set) if plots could not be drawn.
bool write_plots(const std::string& dir, const HistoryLog& history, double time_limit_s,
                 std::string* warning);

}  // namespace runner

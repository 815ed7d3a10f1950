// Resource numbers for throughput runs: CPU time of processes, and the
// cumulative counters a node prints on stderr as
//   raftkv stats: role=leader term=2 commit=123 ... syncs=45 synced_entries=678
// (raftkv's --stats-interval-ms), turned into fsyncs/s and entries per fsync.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace runner {

// utime + stime of a live process (all its threads) from /proc/PID/stat;
// nullopt if it is gone.
std::optional<double> proc_cpu_seconds(pid_t pid);
double rusage_cpu_seconds(const struct rusage& ru);
double self_cpu_seconds();  // getrusage(RUSAGE_SELF)

// The key=value fields of a "raftkv stats:" line, or nullopt for other lines.
std::optional<std::map<std::string, std::string>> parse_stats_line(std::string_view line);

struct StatsSample {
  int64_t t_ns = 0;    // monotonic time the runner read the line
  int generation = 0;  // the node's start count: counters restart with the process
  std::map<std::string, std::string> fields;
};

struct NodeStatsSummary {
  int samples = 0;
  bool windowed = false;  // rates from the requested window (else the whole run)
  double span_s = 0;      // time the rates were measured over
  double syncs = 0, entries = 0, commits = 0;  // deltas over span_s
  int64_t total_syncs = 0, total_entries = 0;  // whole run, summed over restarts
  std::string role;                            // most frequent in the window
  int leader_samples = 0;
  std::map<std::string, std::string> last;  // the last line's fields
  double fsyncs_per_s() const { return span_s > 0 ? syncs / span_s : 0; }
  double entries_per_fsync() const { return syncs > 0 ? entries / syncs : 0; }
};

// Rates over [from_ns, to_ns]; if fewer than two samples of one process fall
// inside, over the whole run instead (windowed = false).
NodeStatsSummary summarize_stats(const std::vector<StatsSample>& samples, int64_t from_ns,
                                 int64_t to_ns);

}  // namespace runner

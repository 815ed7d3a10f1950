// Command-line options of `maelstrom-runner test`, parsed to match
// `maelstrom test` (jepsen-io/maelstrom core.clj) where the flags overlap.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "membership.h"
#include "net_options.h"

namespace runner {

enum class LatencyDist { kConstant, kUniform, kExponential };

struct Options {
  std::string workload = "lin-kv";
  std::string bin;  // absolute path, resolved before nodes chdir
  std::vector<std::string> args;
  std::vector<std::string> nodes;  // n1..n5 unless --node-count
  int concurrency = 0;             // resolved from concurrency_spec
  std::string concurrency_spec = "2n";
  double time_limit_s = 60;
  double rate = 5;  // total requests/s; 0 = closed loop
  int64_t latency_ms = 0;
  LatencyDist latency_dist = LatencyDist::kConstant;
  std::set<std::string> nemesis;  // partition, kill, pause, power, member
  double nemesis_interval_s = 10;
  std::optional<double> availability;  // minimum ok fraction
  int test_count = 1;
  uint64_t seed = 0;
  bool seed_given = false;
  std::string store = "store";
  bool log_stderr = false;
  int process_limit = 20;                // distinct processes per key
  std::optional<int64_t> per_key_limit;  // ops per key
  std::map<std::string, double> mix;     // empty = Jepsen's reader/writer split
  std::optional<int64_t> key_count;      // --keys: every op on a random key of N
  double warmup_s = 1;                   // excluded from the steady-window numbers
  std::vector<int> cpu_pids;             // other processes whose CPU to report (etcd)
  double recovery_s = 2;                 // settle time before final reads
  double final_timeout_s = 30;           // budget for the final reads
  double check_budget_s = 60;            // checker wall-clock budget
  bool plots = true;
  // Membership: nodes n1..nK start as the cluster (0 = all), the others with
  // --join; --member-plan's fixed schedule of changes.
  int initial_members = 0;
  std::vector<PlanStep> member_plan;
  NetOptions net;  // --net netns and its options
};

struct CheckCmdOptions {
  std::string file;
  double budget_s = 60;
  std::string html;  // --html OUT.html: also write the anomaly report there
};

// Parses `test` arguments (after the subcommand). On error returns nullopt and
// sets *error to a message fit for the user.
std::optional<Options> parse_test_args(const std::vector<std::string>& args, std::string* error);
std::optional<CheckCmdOptions> parse_check_args(const std::vector<std::string>& args,
                                                std::string* error);

// "2n" -> 2 * nodes, "10" -> 10. Returns -1 on a malformed spec.
int parse_concurrency(const std::string& spec, int node_count);

// "read=1,write=1,cas=2". Returns nullopt on malformed input.
std::optional<std::map<std::string, double>> parse_mix(const std::string& spec, std::string* error);

std::string usage();

}  // namespace runner

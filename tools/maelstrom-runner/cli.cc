#include "cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>

namespace runner {
namespace {

bool parse_double(const std::string& s, double* out) {
  try {
    size_t pos = 0;
    double v = std::stod(s, &pos);
    if (pos != s.size() || !std::isfinite(v)) return false;
    *out = v;
    return true;
  } catch (...) {
    return false;
  }
}

bool parse_int(const std::string& s, int64_t* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    std::string part = s.substr(start, end == std::string::npos ? end : end - start);
    // Maelstrom accepts whitespace around commas.
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    out.push_back(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

}  // namespace

int parse_concurrency(const std::string& spec, int node_count) {
  int64_t v = 0;
  if (!spec.empty() && spec.back() == 'n') {
    std::string_view num(spec.data(), spec.size() - 1);
    if (num.empty()) num = "1";
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec != std::errc() || p != num.data() + num.size() || v <= 0) return -1;
    return static_cast<int>(v * node_count);
  }
  if (!parse_int(spec, &v) || v <= 0) return -1;
  return static_cast<int>(v);
}

std::optional<std::map<std::string, double>> parse_mix(const std::string& spec,
                                                       std::string* error) {
  std::map<std::string, double> mix;
  for (const auto& part : split(spec, ',')) {
    auto eq = part.find('=');
    double w = 0;
    std::string f = part.substr(0, eq);
    if (eq == std::string::npos || !parse_double(part.substr(eq + 1), &w) || w < 0) {
      *error = fmt::format("--mix: expected f=weight, got '{}'", part);
      return std::nullopt;
    }
    if (f != "read" && f != "write" && f != "cas") {
      *error = fmt::format("--mix: unknown operation '{}' (read, write or cas)", f);
      return std::nullopt;
    }
    mix[f] = w;
  }
  double total = 0;
  for (auto& [f, w] : mix) total += w;
  if (total <= 0) {
    *error = "--mix: weights must not all be zero";
    return std::nullopt;
  }
  return mix;
}

std::optional<Options> parse_test_args(const std::vector<std::string>& args, std::string* error) {
  Options o;
  std::optional<int64_t> node_count;
  std::string fail;
  auto bad = [&](const std::string& msg) {
    fail = msg;
    return false;
  };

  // Each flag's handler consumes its value (if any) and validates it.
  using Handler = std::function<bool(const std::string&)>;
  std::map<std::string, std::pair<bool, Handler>> flags;  // name -> (takes value, handler)
  auto num = [&](const std::string& flag, double* out, bool positive, bool allow_zero) {
    flags[flag] = {true, [&, flag, out, positive, allow_zero](const std::string& v) {
                     double d;
                     if (!parse_double(v, &d))
                       return bad(fmt::format("{}: not a number: '{}'", flag, v));
                     if (d < 0 || (!allow_zero && positive && d == 0))
                       return bad(fmt::format("{} must be {}, got {}", flag,
                                              allow_zero ? "non-negative" : "positive", v));
                     *out = d;
                     return true;
                   }};
  };
  flags["-w"] = {true, [&](const std::string& v) {
                   if (v != "lin-kv")
                     return bad(fmt::format("unknown workload '{}': only lin-kv is supported", v));
                   o.workload = v;
                   return true;
                 }};
  flags["--workload"] = flags["-w"];
  flags["--bin"] = {true, [&](const std::string& v) {
                      o.bin = v;
                      return true;
                    }};
  flags["--node-count"] = {
      true, [&](const std::string& v) {
        int64_t n;
        if (!parse_int(v, &n) || n <= 0 || n > 1000)
          return bad(fmt::format("--node-count must be a positive integer, got '{}'", v));
        node_count = n;
        return true;
      }};
  flags["--concurrency"] = {true, [&](const std::string& v) {
                              o.concurrency_spec = v;
                              return true;
                            }};
  num("--time-limit", &o.time_limit_s, true, false);
  num("--rate", &o.rate, false, true);
  flags["--latency"] = {
      true, [&](const std::string& v) {
        int64_t ms;
        if (!parse_int(v, &ms) || ms < 0)
          return bad(fmt::format("--latency must be a non-negative integer (ms), got '{}'", v));
        o.latency_ms = ms;
        return true;
      }};
  flags["--latency-dist"] = {
      true, [&](const std::string& v) {
        if (v == "constant")
          o.latency_dist = LatencyDist::kConstant;
        else if (v == "uniform")
          o.latency_dist = LatencyDist::kUniform;
        else if (v == "exponential")
          o.latency_dist = LatencyDist::kExponential;
        else
          return bad("--latency-dist must be constant, uniform or exponential");
        return true;
      }};
  flags["--nemesis"] = {
      true, [&](const std::string& v) {
        o.nemesis.clear();
        for (const auto& f : split(v, ',')) {
          if (f.empty() || f == "none") continue;
          if (f != "partition" && f != "kill" && f != "pause" && f != "power")
            return bad(fmt::format(
                "unknown nemesis '{}': expected partition, kill, pause, power or none", f));
          o.nemesis.insert(f);
        }
        return true;
      }};
  num("--nemesis-interval", &o.nemesis_interval_s, true, false);
  flags["--availability"] = {
      true, [&](const std::string& v) {
        double d;
        if (v == "total")
          d = 1.0;
        else if (!parse_double(v, &d) || d < 0 || d > 1)
          return bad("--availability must be 'total' or a fraction in [0, 1]");
        o.availability = d;
        return true;
      }};
  flags["--test-count"] = {true, [&](const std::string& v) {
                             int64_t n;
                             if (!parse_int(v, &n) || n <= 0)
                               return bad("--test-count must be a positive integer");
                             o.test_count = static_cast<int>(n);
                             return true;
                           }};
  flags["--seed"] = {true, [&](const std::string& v) {
                       int64_t n;
                       if (!parse_int(v, &n))
                         return bad(fmt::format("--seed must be an integer, got '{}'", v));
                       o.seed = static_cast<uint64_t>(n);
                       o.seed_given = true;
                       return true;
                     }};
  flags["--store"] = {true, [&](const std::string& v) {
                        o.store = v;
                        return true;
                      }};
  flags["--log-stderr"] = {false, [&](const std::string&) {
                             o.log_stderr = true;
                             return true;
                           }};
  flags["--no-plots"] = {false, [&](const std::string&) {
                           o.plots = false;
                           return true;
                         }};
  flags["--process-limit"] = {true, [&](const std::string& v) {
                                int64_t n;
                                if (!parse_int(v, &n) || n <= 0)
                                  return bad("--process-limit must be a positive integer");
                                o.process_limit = static_cast<int>(n);
                                return true;
                              }};
  flags["--per-key-limit"] = {true, [&](const std::string& v) {
                                int64_t n;
                                if (!parse_int(v, &n) || n <= 0)
                                  return bad("--per-key-limit must be a positive integer");
                                o.per_key_limit = n;
                                return true;
                              }};
  flags["--mix"] = {true, [&](const std::string& v) {
                      std::string err;
                      auto m = parse_mix(v, &err);
                      if (!m) return bad(err);
                      o.mix = *m;
                      return true;
                    }};
  flags["--keys"] = {true, [&](const std::string& v) {
                       int64_t n;
                       if (!parse_int(v, &n) || n <= 0)
                         return bad("--keys must be a positive integer");
                       o.key_count = n;
                       return true;
                     }};
  flags["--key-count"] = flags["--keys"];
  num("--warmup", &o.warmup_s, false, true);
  flags["--cpu-pids"] = {true, [&](const std::string& v) {
                           o.cpu_pids.clear();
                           for (const auto& p : split(v, ',')) {
                             int64_t pid;
                             if (!parse_int(p, &pid) || pid <= 1)
                               return bad(fmt::format("--cpu-pids: bad pid '{}'", p));
                             o.cpu_pids.push_back(static_cast<int>(pid));
                           }
                           return true;
                         }};
  num("--recovery-time", &o.recovery_s, false, true);
  num("--final-timeout", &o.final_timeout_s, true, false);
  num("--check-budget", &o.check_budget_s, true, false);

  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--") {
      o.args.assign(args.begin() + i + 1, args.end());
      break;
    }
    std::string value;
    bool inline_value = false;
    if (a.rfind("--", 0) == 0 && a.find('=') != std::string::npos) {
      value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
      inline_value = true;
    }
    auto it = flags.find(a);
    if (it == flags.end()) {
      *error = fmt::format("unknown option '{}' (node arguments go after --)", args[i]);
      return std::nullopt;
    }
    if (it->second.first && !inline_value) {
      if (i + 1 >= args.size()) {
        *error = fmt::format("{} needs a value", a);
        return std::nullopt;
      }
      value = args[++i];
    }
    if (!it->second.second(value)) {
      *error = fail;
      return std::nullopt;
    }
  }

  if (o.bin.empty()) {
    *error = "Expected a --bin PATH_TO_BINARY to test";
    return std::nullopt;
  }
  std::error_code ec;
  auto bin = std::filesystem::absolute(o.bin, ec);
  if (ec || !std::filesystem::is_regular_file(bin)) {
    *error = fmt::format("--bin {}: no such file", o.bin);
    return std::nullopt;
  }
  o.bin = bin.lexically_normal().string();
  if (access(o.bin.c_str(), X_OK) != 0) {
    *error = fmt::format("--bin {}: not executable", o.bin);
    return std::nullopt;
  }

  // As in Maelstrom: --node-count N names n0..n(N-1); the default is n1..n5.
  if (node_count) {
    for (int64_t i = 0; i < *node_count; ++i) o.nodes.push_back(fmt::format("n{}", i));
  } else {
    for (int i = 1; i <= 5; ++i) o.nodes.push_back(fmt::format("n{}", i));
  }
  int n = static_cast<int>(o.nodes.size());
  o.concurrency = parse_concurrency(o.concurrency_spec, n);
  if (o.concurrency < 0) {
    *error = fmt::format("--concurrency must be a positive integer or Kn (e.g. 2n), got '{}'",
                         o.concurrency_spec);
    return std::nullopt;
  }
  // lin-kv runs each key with 2 x nodes workers (half readers), so the worker
  // pool must split into whole groups -- Jepsen refuses otherwise as well.
  if (o.concurrency % (2 * n) != 0) {
    *error = fmt::format(
        "--concurrency {} is not a multiple of 2 x node count ({}): lin-kv gives every key a "
        "group of {} workers; use 2n, 4n, 10n, ...",
        o.concurrency, 2 * n, 2 * n);
    return std::nullopt;
  }
  if (!o.seed_given) o.seed = std::random_device{}();
  return o;
}

std::optional<CheckCmdOptions> parse_check_args(const std::vector<std::string>& args,
                                                std::string* error) {
  CheckCmdOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--budget") {
      if (i + 1 >= args.size() || !parse_double(args[i + 1], &o.budget_s) || o.budget_s <= 0) {
        *error = "--budget needs a positive number of seconds";
        return std::nullopt;
      }
      ++i;
    } else if (!a.empty() && a[0] == '-') {
      *error = fmt::format("unknown option '{}'", a);
      return std::nullopt;
    } else if (o.file.empty()) {
      o.file = a;
    } else {
      *error = "check takes exactly one history file";
      return std::nullopt;
    }
  }
  if (o.file.empty()) {
    *error = "check needs a history file: maelstrom-runner check FILE.jsonl";
    return std::nullopt;
  }
  return o;
}

std::string usage() {
  return R"(Usage:
  maelstrom-runner test -w lin-kv --bin PATH [options] [-- ARGS passed to every node]
  maelstrom-runner check [--budget S] FILE.jsonl
  maelstrom-runner --help

test options (defaults in brackets):
  -w, --workload NAME        workload to run; only lin-kv [lin-kv]
  --bin PATH                 node binary (required)
  --node-count N             run nodes n0..n(N-1) [n1..n5]
  --concurrency C|Kn         workers, a multiple of 2 x nodes [2n]
  --time-limit S             seconds of workload [60]
  --rate R                   total requests/s, gaps uniform in [0, 2/R); 0 = closed loop [5]
  --latency MS               mean server-to-server latency in ms [0]
  --latency-dist D           constant | uniform | exponential [constant]
  --nemesis LIST             comma-separated: partition, kill, pause, power [none]
  --nemesis-interval S       mean seconds between nemesis events [10]
  --availability total|F     fail the run if the ok fraction is below F [off]
  --test-count K             run the test K times, stop at the first non-valid run [1]
  --seed N                   random seed for workload, latency and nemesis [random]
  --store DIR                results directory [./store]
  --log-stderr               also echo node stderr to the terminal [off]
  --mix read=R,write=W,cas=C every worker draws operations by weight [off: Jepsen's
                             half readers, half write/cas/cas]
  --keys N                   every op picks a uniformly random key of 0..N-1 instead of
                             Jepsen's key per worker group (throughput runs) [off]
  --warmup S                 seconds excluded from the steady-window throughput,
                             latency and CPU (first leader election) [1]
  --cpu-pids P1,P2,...       also report the CPU of these processes (e.g. etcd) [none]
  --process-limit N          retire a key after N distinct processes used it [20]
  --per-key-limit N          retire a key after ~N operations [off]
  --recovery-time S          wait after healing before the final reads [2]
  --final-timeout S          budget for the final reads [30]
  --check-budget S           linearizability checker time budget [60]
  --no-plots                 skip the gnuplot plots

Exit status: 0 valid, 1 invalid, 2 unknown or error.
)";
}

}  // namespace runner

#include "cli.h"

#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>

#include "cli/flags.h"

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

namespace {

// Defines `test`'s options with CLI11. With help_out set, returns nothing and
// puts the generated help there; otherwise parses args (everything after the
// first "--" goes to the nodes) and validates the result.
std::optional<Options> test_cli(const std::vector<std::string>& args, std::string* error,
                                std::string* help_out) {
  Options o;
  std::optional<int64_t> node_count;
  std::string fail;
  auto bad = [&](const std::string& msg) {
    fail = msg;
    return false;
  };

  // Each option's handler validates its value and stores it; on a bad value
  // it says why through bad() and returns false.
  using Handler = std::function<bool(const std::string&)>;
  CLI::App app(
      "Runs Maelstrom-protocol nodes under a lin-kv workload and faults, then checks\n"
      "the history for linearizability. Node arguments go after --.",
      "maelstrom-runner test");
  raftkv::cli::configure(app);
  auto value = [&](const std::string& names, const std::string& type, const std::string& def,
                   const std::string& help, Handler handler) {
    app.add_option_function<std::string>(
           names,
           [&fail, handler](const std::string& v) {  // called within test_cli only
             if (!handler(v)) throw CLI::ValidationError(fail);
           },
           help)
        ->type_name(type)
        ->default_str(def);
  };
  auto flag = [&](const std::string& names, const std::string& help, std::function<void()> f) {
    app.add_flag_callback(names, std::move(f), help);
  };
  auto num = [&](const std::string& flag, double* out, bool positive, bool allow_zero,
                 const std::string& help, const std::string& type = "S") {
    value(flag, type, raftkv::cli::number_text(*out), help,
          [&, flag, out, positive, allow_zero](const std::string& v) {
            double d;
            if (!parse_double(v, &d)) return bad(fmt::format("{}: not a number: '{}'", flag, v));
            if (d < 0 || (!allow_zero && positive && d == 0))
              return bad(fmt::format("{} must be {}, got {}", flag,
                                     allow_zero ? "non-negative" : "positive", v));
            *out = d;
            return true;
          });
  };
  value("-w,--workload", "NAME", o.workload, "workload to run; only lin-kv",
        [&](const std::string& v) {
          if (v != "lin-kv")
            return bad(fmt::format("unknown workload '{}': only lin-kv is supported", v));
          o.workload = v;
          return true;
        });
  value("--bin", "PATH", "", "node binary (required)", [&](const std::string& v) {
    o.bin = v;
    return true;
  });
  value("--node-count", "N", "n1..n5", "run nodes n0..n(N-1)", [&](const std::string& v) {
    int64_t n;
    if (!parse_int(v, &n) || n <= 0 || n > 1000)
      return bad(fmt::format("--node-count must be a positive integer, got '{}'", v));
    node_count = n;
    return true;
  });
  value("--concurrency", "C|Kn", o.concurrency_spec, "workers, a multiple of 2 x nodes",
        [&](const std::string& v) {
          o.concurrency_spec = v;
          return true;
        });
  num("--time-limit", &o.time_limit_s, true, false, "seconds of workload");
  num("--rate", &o.rate, false, true, "total requests/s, gaps uniform in [0, 2/R); 0 = closed loop",
      "R");
  value("--latency", "MS", std::to_string(o.latency_ms), "mean server-to-server latency in ms",
        [&](const std::string& v) {
          int64_t ms;
          if (!parse_int(v, &ms) || ms < 0)
            return bad(fmt::format("--latency must be a non-negative integer (ms), got '{}'", v));
          o.latency_ms = ms;
          return true;
        });
  value("--latency-dist", "D", "constant", "constant | uniform | exponential",
        [&](const std::string& v) {
          if (v == "constant")
            o.latency_dist = LatencyDist::kConstant;
          else if (v == "uniform")
            o.latency_dist = LatencyDist::kUniform;
          else if (v == "exponential")
            o.latency_dist = LatencyDist::kExponential;
          else
            return bad("--latency-dist must be constant, uniform or exponential");
          return true;
        });
  value(
      "--nemesis", "LIST", "none",
      "comma-separated: partition, kill, pause, power, member (power: each node's data dir on "
      "its own lossyfs mount; a cut drops unsynced data. member: remove a voter, re-add a "
      "node as a wiped replacement, or move leadership)",
      [&](const std::string& v) {
        o.nemesis.clear();
        for (const auto& f : split(v, ',')) {
          if (f.empty() || f == "none") continue;
          if (f != "partition" && f != "kill" && f != "pause" && f != "power" && f != "member")
            return bad(fmt::format(
                "unknown nemesis '{}': expected partition, kill, pause, power, member or none", f));
          o.nemesis.insert(f);
        }
        return true;
      });
  num("--nemesis-interval", &o.nemesis_interval_s, true, false,
      "mean seconds between nemesis events");
  std::optional<int64_t> initial_members;
  value("--initial-members", "K", "node count",
        "n1..nK (the first K nodes) start as the cluster; the others start with --join",
        [&](const std::string& v) {
          int64_t k;
          if (!parse_int(v, &k) || k <= 0)
            return bad(fmt::format("--initial-members must be a positive integer, got '{}'", v));
          initial_members = k;
          return true;
        });
  std::string member_plan;
  value("--member-plan", "T:ACTION:NODE,...", "none",
        "fixed membership changes: ACTION add | remove | transfer, NODE an id, or leader / any "
        "(e.g. 10:add:n4,30:remove:leader)",
        [&](const std::string& v) {
          member_plan = v;
          return true;
        });
  value("--availability", "total|F", "off", "fail the run if the ok fraction is below F",
        [&](const std::string& v) {
          double d;
          if (v == "total")
            d = 1.0;
          else if (!parse_double(v, &d) || d < 0 || d > 1)
            return bad("--availability must be 'total' or a fraction in [0, 1]");
          o.availability = d;
          return true;
        });
  value("--test-count", "K", "1", "run the test K times, stop at the first non-valid run",
        [&](const std::string& v) {
          int64_t n;
          if (!parse_int(v, &n) || n <= 0) return bad("--test-count must be a positive integer");
          o.test_count = static_cast<int>(n);
          return true;
        });
  value("--seed", "N", "random", "random seed for workload, latency and nemesis",
        [&](const std::string& v) {
          int64_t n;
          if (!parse_int(v, &n)) return bad(fmt::format("--seed must be an integer, got '{}'", v));
          o.seed = static_cast<uint64_t>(n);
          o.seed_given = true;
          return true;
        });
  value("--store", "DIR", "./store", "results directory", [&](const std::string& v) {
    o.store = v;
    return true;
  });
  flag("--log-stderr", "also echo node stderr to the terminal", [&] { o.log_stderr = true; });
  flag("--no-plots", "skip the gnuplot plots", [&] { o.plots = false; });
  value("--process-limit", "N", std::to_string(o.process_limit),
        "retire a key after N distinct processes used it", [&](const std::string& v) {
          int64_t n;
          if (!parse_int(v, &n) || n <= 0) return bad("--process-limit must be a positive integer");
          o.process_limit = static_cast<int>(n);
          return true;
        });
  value("--per-key-limit", "N", "off", "retire a key after ~N operations",
        [&](const std::string& v) {
          int64_t n;
          if (!parse_int(v, &n) || n <= 0) return bad("--per-key-limit must be a positive integer");
          o.per_key_limit = n;
          return true;
        });
  value("--mix", "SPEC", "off: Jepsen's half readers, half write/cas/cas",
        "read=R,write=W,cas=C: every worker draws operations by weight", [&](const std::string& v) {
          std::string err;
          auto m = parse_mix(v, &err);
          if (!m) return bad(err);
          o.mix = *m;
          return true;
        });
  value("--keys,--key-count", "N", "off",
        "every op picks a uniformly random key of 0..N-1 instead of Jepsen's key per worker "
        "group (throughput runs)",
        [&](const std::string& v) {
          int64_t n;
          if (!parse_int(v, &n) || n <= 0) return bad("--keys must be a positive integer");
          o.key_count = n;
          return true;
        });
  num("--warmup", &o.warmup_s, false, true,
      "seconds excluded from the steady-window throughput, latency and CPU (first leader "
      "election)");
  value("--cpu-pids", "P1,P2,...", "none", "also report the CPU of these processes (e.g. etcd)",
        [&](const std::string& v) {
          o.cpu_pids.clear();
          for (const auto& p : split(v, ',')) {
            int64_t pid;
            if (!parse_int(p, &pid) || pid <= 1)
              return bad(fmt::format("--cpu-pids: bad pid '{}'", p));
            o.cpu_pids.push_back(static_cast<int>(pid));
          }
          return true;
        });
  num("--recovery-time", &o.recovery_s, false, true, "wait after healing before the final reads");
  num("--final-timeout", &o.final_timeout_s, true, false, "budget for the final reads");
  num("--check-budget", &o.check_budget_s, true, false, "linearizability checker time budget");

  add_net_options(app, &o.net, &fail);

  if (help_out) {
    *help_out = app.help();
    return std::nullopt;
  }

  // Everything after the first "--" goes to the nodes, untouched.
  std::vector<std::string> own = args;
  if (auto dd = std::find(own.begin(), own.end(), "--"); dd != own.end()) {
    o.args.assign(dd + 1, own.end());
    own.erase(dd, own.end());
  }
  try {
    std::reverse(own.begin(), own.end());  // CLI11 takes them back to front
    app.parse(own);
  } catch (const CLI::ExtrasError& e) {
    *error = fmt::format("{} (node arguments go after --)", e.what());
    return std::nullopt;
  } catch (const CLI::ValidationError& e) {
    *error = fail.empty() ? e.what() : fail;
    return std::nullopt;
  } catch (const CLI::Error& e) {  // --help is handled by main; here it is a usage error too
    *error = e.what();
    return std::nullopt;
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
  if (!validate_net_options(o, error)) return std::nullopt;
  if (initial_members) {
    if (*initial_members > n) {
      *error = fmt::format("--initial-members {} is more than the {} nodes", *initial_members, n);
      return std::nullopt;
    }
    o.initial_members = static_cast<int>(*initial_members);
  }
  if (!member_plan.empty()) {
    auto plan = parse_member_plan(member_plan, o.nodes, error);
    if (!plan) return std::nullopt;
    o.member_plan = *plan;
  }
  bool membership = o.nemesis.count("member") || !o.member_plan.empty() || initial_members;
  if (membership && o.net.mode == NetMode::kNetns) {
    *error =
        "--nemesis member, --member-plan and --initial-members are not supported with --net netns "
        "yet (use the default simulated network)";
    return std::nullopt;
  }
  if (!o.seed_given) o.seed = std::random_device{}();
  return o;
}

}  // namespace

std::optional<Options> parse_test_args(const std::vector<std::string>& args, std::string* error) {
  return test_cli(args, error, nullptr);
}

namespace {

// The `check` subcommand's options, for parsing and for --help.
void add_check_options(CLI::App& app, CheckCmdOptions* o, std::string* fail) {
  raftkv::cli::configure(app);
  app.add_option("FILE.jsonl", o->file, "history to check (JSON lines, as `test` writes it)");
  app.add_option_function<std::string>(
         "--budget",
         [o, fail](const std::string& v) {
           double d = 0;
           if (!parse_double(v, &d) || d <= 0) {
             *fail = "--budget needs a positive number of seconds";
             throw CLI::ValidationError(*fail);
           }
           o->budget_s = d;
         },
         "checker time budget in seconds")
      ->type_name("S")
      ->default_str(raftkv::cli::number_text(o->budget_s));
  app.add_option("--html", o->html, "also write an HTML report (timeline, anomalies) to this file")
      ->type_name("OUT.html");
}

}  // namespace

std::optional<CheckCmdOptions> parse_check_args(const std::vector<std::string>& args,
                                                std::string* error) {
  CheckCmdOptions o;
  std::string fail;
  CLI::App app(
      "Checks a history file for linearizability. Exit status: 0 valid, 1 invalid, 2\n"
      "unknown or error.",
      "maelstrom-runner check");
  add_check_options(app, &o, &fail);
  try {
    std::vector<std::string> rev(args.rbegin(), args.rend());
    app.parse(rev);
  } catch (const CLI::ExtrasError& e) {
    const auto& extras = e.what();
    *error = std::string(extras).find(" -") != std::string::npos
                 ? std::string(extras)
                 : std::string("check takes exactly one history file");
    return std::nullopt;
  } catch (const CLI::Error& e) {
    *error = fail.empty() ? e.what() : fail;
    return std::nullopt;
  }
  if (o.file.empty()) {
    *error = "check needs a history file: maelstrom-runner check FILE.jsonl";
    return std::nullopt;
  }
  return o;
}

std::string usage() {
  // Generated from the same CLI11 definitions that parse each subcommand.
  std::string test_help, error;
  test_cli({}, &error, &test_help);
  CheckCmdOptions c;
  std::string fail;
  CLI::App check("Checks a history file for linearizability.", "maelstrom-runner check");
  add_check_options(check, &c, &fail);
  return "Usage:\n"
         "  maelstrom-runner test -w lin-kv --bin PATH [options] [-- ARGS passed to every node]\n"
         "  maelstrom-runner check [--budget S] [--html OUT.html] FILE.jsonl\n"
         "  maelstrom-runner serve [--store DIR] [--port 8080] [--bind 127.0.0.1]\n"
         "  maelstrom-runner --help\n\n" +
         test_help + "\n" + check.help() +
         "\nExit status: 0 valid, 1 invalid, 2 unknown or error.\n";
}

}  // namespace runner

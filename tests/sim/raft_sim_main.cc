// raft-sim: runs the deterministic Raft simulation over many seeds, replays
// one seed, or measures leader failover. See --help.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sim/sim.h"

using raftkv::sim::FailoverMode;
using raftkv::sim::Options;
using raftkv::sim::Result;
using raftkv::sim::Scenario;

namespace {

const char kUsage[] = R"(usage: raft-sim [flags]
  --seeds N             run N seeds (default 100), starting at --first-seed
  --first-seed S        first seed of --seeds (default 1)
  --seed S              run (replay) exactly one seed, with the full trace tail
  --scenario NAME|all   basic, lossy, partitions, crashes, skew, chaos; "all"
                        (the default) cycles through them by seed
  --nodes N|mixed       cluster size (default mixed: 3 for odd seeds, 5 for even)
  --steps T             simulated duration in ticks of 10 ms (default 2000)
  --quiet-steps T       fault-free ticks at the end (default 500)
  --clients N --keys N  simulated clients and keys (default 5, 3)
  --election-tick N --heartbeat-tick N --max-inflight N
                        Raft settings (defaults 50, 5, 64: production's
                        500 ms / 50 ms at a 10 ms tick)
  --delay-us MIN,MAX    one-way network delay (default 100,3000)
  --read-via-log F      fraction of reads sent through the log (default 0.2)
  --persist-first       leaders too persist before sending (Node::drive lets a
                        leader send first when its term and vote are on disk)
  --no-pre-vote --no-check-quorum
  --no-lin              skip the linearizability check
  --paranoid            full log-matching scan after every event
  --trace               print every trace line as it happens
  --jobs J              seeds to run in parallel (default 1)
  --failover N          measure leader failover over N runs instead
  --failover-mode crash|isolate  (default crash)
)";

struct Flags {
  Options base;
  uint64_t seeds = 100;
  uint64_t first_seed = 1;
  std::optional<uint64_t> one_seed;
  bool all_scenarios = true;
  bool mixed_nodes = true;
  int jobs = 1;
  int failover = 0;
  FailoverMode mode = FailoverMode::kCrash;
};

[[noreturn]] void usage_error(const std::string& what) {
  std::cerr << "raft-sim: " << what << "\n" << kUsage;
  std::exit(2);
}

Flags parse(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(a + " needs a value");
      return argv[++i];
    };
    auto num = [&]() -> long long {
      std::string v = val();
      char* end = nullptr;
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (end == v.c_str() || *end != '\0') usage_error(a + ": not a number: " + v);
      return n;
    };
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      std::exit(0);
    } else if (a == "--seeds") {
      f.seeds = static_cast<uint64_t>(num());
    } else if (a == "--first-seed") {
      f.first_seed = static_cast<uint64_t>(num());
    } else if (a == "--seed") {
      f.one_seed = static_cast<uint64_t>(num());
    } else if (a == "--scenario") {
      std::string v = val();
      if (v == "all") {
        f.all_scenarios = true;
      } else if (auto s = raftkv::sim::parse_scenario(v)) {
        f.all_scenarios = false;
        f.base.scenario = *s;
      } else {
        usage_error("unknown scenario " + v);
      }
    } else if (a == "--nodes") {
      std::string v = val();
      if (v == "mixed") {
        f.mixed_nodes = true;
      } else {
        f.mixed_nodes = false;
        f.base.nodes = std::atoi(v.c_str());
        if (f.base.nodes < 1 || f.base.nodes > 9) usage_error("--nodes must be 1..9 or mixed");
      }
    } else if (a == "--steps") {
      f.base.ticks = static_cast<int>(num());
    } else if (a == "--quiet-steps") {
      f.base.quiet_ticks = static_cast<int>(num());
    } else if (a == "--clients") {
      f.base.clients = static_cast<int>(num());
    } else if (a == "--keys") {
      f.base.keys = std::max(1, static_cast<int>(num()));
    } else if (a == "--election-tick") {
      f.base.election_tick = static_cast<int>(num());
    } else if (a == "--heartbeat-tick") {
      f.base.heartbeat_tick = static_cast<int>(num());
    } else if (a == "--max-inflight") {
      f.base.max_inflight = static_cast<size_t>(num());
    } else if (a == "--delay-us") {
      std::string v = val();
      long long lo = 0, hi = 0;
      if (std::sscanf(v.c_str(), "%lld,%lld", &lo, &hi) != 2 || lo < 0 || hi < lo) {
        usage_error("--delay-us wants MIN,MAX");
      }
      f.base.delay_min_ns = lo * 1000;
      f.base.delay_max_ns = hi * 1000;
    } else if (a == "--read-via-log") {
      f.base.read_via_log = std::atof(val().c_str());
    } else if (a == "--persist-first") {
      std::cerr << "raft-sim: --persist-first is gone: the core always lets a leader send first\n";
    } else if (a == "--no-pre-vote") {
      f.base.pre_vote = false;
    } else if (a == "--no-check-quorum") {
      f.base.check_quorum = false;
    } else if (a == "--no-lin") {
      f.base.check_linearizability = false;
    } else if (a == "--paranoid") {
      f.base.paranoid = true;
    } else if (a == "--trace") {
      f.base.trace = true;
    } else if (a == "--jobs") {
      f.jobs = std::max(1, static_cast<int>(num()));
    } else if (a == "--failover") {
      f.failover = static_cast<int>(num());
    } else if (a == "--failover-mode") {
      std::string v = val();
      if (v == "crash") {
        f.mode = FailoverMode::kCrash;
      } else if (v == "isolate") {
        f.mode = FailoverMode::kIsolate;
      } else {
        usage_error("--failover-mode is crash or isolate");
      }
    } else {
      usage_error("unknown flag " + a);
    }
  }
  if (f.base.ticks < 1 || f.base.election_tick < 2 || f.base.heartbeat_tick < 1) {
    usage_error("bad tick settings");
  }
  return f;
}

Options options_for(const Flags& f, uint64_t seed) {
  Options o = f.base;
  o.seed = seed;
  if (f.all_scenarios) {
    auto all = raftkv::sim::all_scenarios();
    o.scenario = all[seed % all.size()];
  }
  if (f.mixed_nodes) o.nodes = seed % 2 ? 3 : 5;
  return o;
}

void print_failure(const Result& r, bool full_trace) {
  std::printf("FAIL %s: %s\n  replay: %s\n", r.invariant.c_str(), r.detail.c_str(),
              r.replay.c_str());
  size_t from = full_trace || r.trace_tail.size() <= 12 ? 0 : r.trace_tail.size() - 12;
  std::printf("  trace tail:\n");
  for (size_t i = from; i < r.trace_tail.size(); ++i) {
    std::printf("    %s\n", r.trace_tail[i].c_str());
  }
}

int run_failover(const Flags& f) {
  std::vector<double> ticks;
  int failed = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int k = 0; k < f.failover; ++k) {
    Options o = options_for(f, f.first_seed + static_cast<uint64_t>(k));
    if (f.all_scenarios) o.scenario = Scenario::kBasic;
    auto t = raftkv::sim::measure_failover(o, f.mode);
    if (t) {
      ticks.push_back(*t);
    } else {
      ++failed;
      std::printf("no failover: %s\n", raftkv::sim::replay_command(o).c_str());
    }
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (ticks.empty()) return 1;
  std::sort(ticks.begin(), ticks.end());
  auto pct = [&](double p) {
    size_t i = static_cast<size_t>(p * static_cast<double>(ticks.size() - 1) + 0.5);
    return ticks[std::min(i, ticks.size() - 1)];
  };
  double ms = static_cast<double>(f.base.tick_ns) / 1e6;
  std::printf(
      "failover (%s the leader, %s nodes, election %d ticks, heartbeat %d ticks, delay %lld-%lld "
      "us): %zu runs, %d without a new leader, %.1fs\n",
      f.mode == FailoverMode::kCrash ? "crash" : "isolate",
      f.mixed_nodes ? "3/5" : std::to_string(f.base.nodes).c_str(), f.base.election_tick,
      f.base.heartbeat_tick, static_cast<long long>(f.base.delay_min_ns / 1000),
      static_cast<long long>(f.base.delay_max_ns / 1000), ticks.size(), failed, wall);
  std::printf("  min %.1f  median %.1f  p90 %.1f  p99 %.1f  max %.1f ticks\n", ticks.front(),
              pct(0.5), pct(0.9), pct(0.99), ticks.back());
  std::printf("  min %.0f  median %.0f  p90 %.0f  p99 %.0f  max %.0f ms (at %.0f ms/tick)\n",
              ticks.front() * ms, pct(0.5) * ms, pct(0.9) * ms, pct(0.99) * ms, ticks.back() * ms,
              ms);
  return failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags f = parse(argc, argv);
  if (f.failover > 0) return run_failover(f);

  if (f.one_seed) {
    Options o = options_for(f, *f.one_seed);
    auto t0 = std::chrono::steady_clock::now();
    Result r = raftkv::sim::run(o);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto& s = r.stats;
    std::printf(
        "seed %llu (%s, %d nodes, %d ticks): %s in %.2fs\n"
        "  events %llu, messages %llu sent / %llu delivered, elections %llu, max term %llu, "
        "commit %llu\n"
        "  appends %llu carrying %llu entries (max %zu per message, up to %zu unanswered to one "
        "follower)\n"
        "  crashes %llu (%llu inside a Ready), partitions %llu\n"
        "  client ops: %llu ok (%llu reads, %llu writes, %llu cas), %llu fail, %llu info; "
        "linearizability %s (%.2fs)\n",
        static_cast<unsigned long long>(o.seed), to_string(o.scenario), o.nodes, o.ticks,
        r.ok ? "ok" : "FAILED", wall, (unsigned long long)s.events,
        (unsigned long long)s.messages_sent, (unsigned long long)s.messages_delivered,
        (unsigned long long)s.elections, (unsigned long long)s.max_term,
        (unsigned long long)s.max_commit, (unsigned long long)s.append_msgs,
        (unsigned long long)s.appended_entries, s.max_entries_in_append, s.max_appends_in_flight,
        (unsigned long long)s.crashes, (unsigned long long)s.crashes_mid_ready,
        (unsigned long long)s.partitions, (unsigned long long)s.ops_ok,
        (unsigned long long)s.reads_ok, (unsigned long long)s.writes_ok,
        (unsigned long long)s.cas_ok, (unsigned long long)s.ops_fail,
        (unsigned long long)s.ops_info, s.lin_verdict.c_str(), s.lin_seconds);
    if (!r.ok) print_failure(r, true);
    return r.ok ? 0 : 1;
  }

  auto t0 = std::chrono::steady_clock::now();
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  uint64_t failures = 0, unknown = 0, ops = 0, crashes = 0, partitions = 0, elections = 0;
  auto worker = [&] {
    for (;;) {
      uint64_t k = next++;
      if (k >= f.seeds) return;
      Options o = options_for(f, f.first_seed + k);
      Result r = raftkv::sim::run(o);
      std::lock_guard<std::mutex> lock(mu);
      ops += r.stats.ops_ok + r.stats.ops_fail + r.stats.ops_info;
      crashes += r.stats.crashes;
      partitions += r.stats.partitions;
      elections += r.stats.elections;
      if (r.stats.lin_verdict == "unknown") {
        ++unknown;
        std::printf("linearizability unknown (budget exhausted): %s\n", r.replay.c_str());
      }
      if (!r.ok) {
        ++failures;
        std::printf("seed %llu ", static_cast<unsigned long long>(o.seed));
        print_failure(r, false);
      }
      std::fflush(stdout);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < f.jobs; ++j) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "%llu seeds (%llu..%llu), %llu failed, %llu linearizability unknown; %llu client ops, "
      "%llu elections, %llu crashes, %llu partitions; %.1fs wall\n",
      (unsigned long long)f.seeds, (unsigned long long)f.first_seed,
      (unsigned long long)(f.first_seed + f.seeds - 1), (unsigned long long)failures,
      (unsigned long long)unknown, (unsigned long long)ops, (unsigned long long)elections,
      (unsigned long long)crashes, (unsigned long long)partitions, wall);
  return failures ? 1 : 0;
}

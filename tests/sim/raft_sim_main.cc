// raft-sim: runs the deterministic Raft simulation over many seeds, replays
// one seed, or measures leader failover. See --help.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/flags.h"
#include "sim/sim.h"

using raftkv::sim::FailoverMode;
using raftkv::sim::Options;
using raftkv::sim::Result;
using raftkv::sim::Scenario;

namespace {

// Resident memory of this process in MiB (0 if /proc is not there).
uint64_t resident_mib() {
  std::ifstream statm("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * 4096 / (1 << 20);
}

// Every 30 s until `done`: the seeds that have run for over a minute.
void report_slow_seeds(std::mutex& mu,
                       const std::map<uint64_t, std::chrono::steady_clock::time_point>& running,
                       const std::atomic<bool>& done) {
  using namespace std::chrono;
  auto last = steady_clock::now();
  while (!done) {
    std::this_thread::sleep_for(milliseconds(200));
    if (steady_clock::now() - last < seconds(30)) continue;
    last = steady_clock::now();
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [seed, started] : running) {
      auto secs = duration_cast<seconds>(last - started).count();
      if (secs < 60) continue;
      std::printf("slow seed %llu: running for %llds, process resident %llu MiB\n",
                  static_cast<unsigned long long>(seed), static_cast<long long>(secs),
                  static_cast<unsigned long long>(resident_mib()));
    }
    std::fflush(stdout);
  }
}

struct Flags {
  Options base;
  uint64_t seeds = 100;
  uint64_t first_seed = 1;
  std::optional<uint64_t> one_seed;
  bool all_scenarios = true;
  bool mixed_nodes = true;
  bool stop_at_first = false;
  int jobs = 1;
  int failover = 0;
  FailoverMode mode = FailoverMode::kCrash;
};

// Parses the flags into *f; returns the exit status when the program must stop.
std::optional<int> parse(int argc, char** argv, Flags* f) {
  using raftkv::cli::add_int;
  constexpr long long kMax = std::numeric_limits<int>::max();
  constexpr long long kMax64 = std::numeric_limits<long long>::max();
  CLI::App app(
      "Runs the deterministic Raft simulation over many seeds, replays one seed, or\n"
      "measures leader failover.",
      "raft-sim");
  raftkv::cli::configure(app);
  add_int(app, "--seeds", &f->seeds, 0, kMax64, "run N seeds, starting at --first-seed");
  add_int(app, "--first-seed", &f->first_seed, 0, kMax64, "first seed of --seeds");
  app.add_option_function<std::string>(
         "--seed",
         [f](const std::string& v) {
           auto n = raftkv::cli::to_int(v, 0, kMax64);
           if (!n) throw CLI::ValidationError("--seed", "needs an integer >= 0, got \"" + v + "\"");
           f->one_seed = static_cast<uint64_t>(*n);
         },
         "run (replay) exactly one seed, with the full trace tail")
      ->type_name("S");
  app.add_option_function<std::string>(
         "--scenario",
         [f](const std::string& v) {
           if (v == "all") {
             f->all_scenarios = true;
           } else if (auto s = raftkv::sim::parse_scenario(v)) {
             f->all_scenarios = false;
             f->base.scenario = *s;
           } else {
             throw CLI::ValidationError("--scenario", "unknown scenario " + v);
           }
         },
         "basic, lossy, partitions, crashes, skew, chaos; \"all\" cycles through them by seed")
      ->type_name("NAME|all")
      ->default_str("all");
  app.add_option_function<std::string>(
         "--nodes",
         [f](const std::string& v) {
           if (v == "mixed") {
             f->mixed_nodes = true;
             return;
           }
           auto n = raftkv::cli::to_int(v, 1, 9);
           if (!n) throw CLI::ValidationError("--nodes", "must be 1..9 or mixed");
           f->mixed_nodes = false;
           f->base.nodes = static_cast<int>(*n);
         },
         "cluster size; mixed: 3 for odd seeds, 5 for even (with --membership: the founding "
         "voters, 1 + seed % 5)")
      ->type_name("N|mixed")
      ->default_str("mixed");
  app.add_flag("--membership", f->base.membership,
               "random membership changes over a pool of 7 servers (cluster sizes 1..7)");
  app.add_option_function<std::string>(
         "--bug",
         [f](const std::string& v) {
           auto b = raftkv::sim::parse_bug(v);
           if (!b) {
             std::string names;
             for (const auto& n : raftkv::sim::bug_names()) names += " " + n;
             throw CLI::ValidationError("--bug", "unknown bug " + v + "; one of:" + names);
           }
           f->base.bugs = *b;
           f->base.membership = true;
         },
         "inject a deliberately broken Raft behaviour (implies --membership): "
         "concurrent_changes, config_on_commit, removed_leader_serves")
      ->type_name("NAME");
  app.add_flag_callback(
      "--no-membership-checks", [f] { f->base.check_membership = false; },
      "skip the membership invariants (to see what the other checks catch of a --bug)");
  app.add_flag("--stop-at-first", f->stop_at_first,
               "stop a --seeds sweep at its first failing seed (to find a --bug)");
  add_int(app, "--steps", &f->base.ticks, 1, kMax, "simulated duration in ticks of 10 ms");
  add_int(app, "--quiet-steps", &f->base.quiet_ticks, 0, kMax, "fault-free ticks at the end");
  add_int(app, "--clients", &f->base.clients, 0, kMax, "simulated clients");
  add_int(app, "--keys", &f->base.keys, 1, kMax, "keys the clients use");
  add_int(app, "--election-tick", &f->base.election_tick, 2, kMax,
          "election timeout in ticks (production: 500 ms at a 10 ms tick)");
  add_int(app, "--heartbeat-tick", &f->base.heartbeat_tick, 1, kMax, "heartbeat in ticks");
  add_int(app, "--max-inflight", &f->base.max_inflight, 1, kMax,
          "AppendEntries in flight per follower");
  app.add_option_function<std::string>(
         "--delay-us",
         [f](const std::string& v) {
           const size_t comma = v.find(',');
           auto lo = raftkv::cli::to_int(v.substr(0, comma), 0, kMax64 / 1000);
           auto hi = comma == std::string::npos
                         ? std::nullopt
                         : raftkv::cli::to_int(v.substr(comma + 1), 0, kMax64 / 1000);
           if (!lo || !hi || *hi < *lo) throw CLI::ValidationError("--delay-us", "wants MIN,MAX");
           f->base.delay_min_ns = *lo * 1000;
           f->base.delay_max_ns = *hi * 1000;
         },
         "one-way network delay in microseconds")
      ->type_name("MIN,MAX")
      ->default_str(std::to_string(f->base.delay_min_ns / 1000) + "," +
                    std::to_string(f->base.delay_max_ns / 1000));
  raftkv::cli::add_number(
      app, "--read-via-log", &f->base.read_via_log,
      [](double d) { return d < 0 || d > 1 ? std::string("must be in [0, 1]") : std::string(); },
      "fraction of seeds whose reads go through the log")
      ->type_name("F");
  app.add_flag_callback(
      "--no-pre-vote", [f] { f->base.pre_vote = false; }, "disable PreVote");
  app.add_flag_callback(
      "--no-check-quorum", [f] { f->base.check_quorum = false; }, "disable CheckQuorum");
  app.add_flag_callback(
      "--no-lin", [f] { f->base.check_linearizability = false; }, "skip the linearizability check");
  app.add_flag("--paranoid", f->base.paranoid, "full log-matching scan after every event");
  app.add_flag("--trace", f->base.trace, "print every trace line as it happens");
  add_int(app, "--jobs", &f->jobs, 1, kMax, "seeds to run in parallel");
  add_int(app, "--failover", &f->failover, 0, kMax, "measure leader failover over N runs instead");
  app.add_option_function<std::string>(
         "--failover-mode",
         [f](const std::string& v) {
           if (v == "crash") {
             f->mode = FailoverMode::kCrash;
           } else if (v == "isolate") {
             f->mode = FailoverMode::kIsolate;
           } else {
             throw CLI::ValidationError("--failover-mode", "is crash or isolate");
           }
         },
         "how the leader is taken away")
      ->type_name("crash|isolate")
      ->default_str("crash");
  if (auto rc = raftkv::cli::parse(app, argc, argv)) return rc;
  if (f->base.membership && !f->mixed_nodes && f->base.nodes > raftkv::sim::kPoolSize) {
    std::fprintf(stderr, "raft-sim: --nodes must be 1..%d with --membership\n",
                 raftkv::sim::kPoolSize);
    return 2;
  }
  return std::nullopt;
}

Options options_for(const Flags& f, uint64_t seed) {
  Options o = f.base;
  o.seed = seed;
  if (f.all_scenarios) {
    auto all = raftkv::sim::all_scenarios();
    o.scenario = all[seed % all.size()];
  }
  if (f.mixed_nodes) o.nodes = o.membership ? 1 + static_cast<int>(seed % 5) : seed % 2 ? 3 : 5;
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
  Flags f;
  if (auto rc = parse(argc, argv, &f)) return *rc;
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
        "  crashes %llu (%llu inside the core), partitions %llu\n"
        "  compactions %llu, snapshots %llu sent / %llu installed, forwarded messages %llu\n"
        "  client ops: %llu ok (%llu reads, %llu writes, %llu cas), %llu fail, %llu info; "
        "linearizability %s (%.2fs)\n"
        "  membership: %llu requests, %llu done, %llu servers wiped and re-added, voters %d..%d\n",
        static_cast<unsigned long long>(o.seed), to_string(o.scenario), o.nodes, o.ticks,
        r.ok ? "ok" : "FAILED", wall, (unsigned long long)s.events,
        (unsigned long long)s.messages_sent, (unsigned long long)s.messages_delivered,
        (unsigned long long)s.elections, (unsigned long long)s.max_term,
        (unsigned long long)s.max_commit, (unsigned long long)s.append_msgs,
        (unsigned long long)s.appended_entries, s.max_entries_in_append, s.max_appends_in_flight,
        (unsigned long long)s.crashes, (unsigned long long)s.crashes_mid_ready,
        (unsigned long long)s.partitions, (unsigned long long)s.compactions,
        (unsigned long long)s.snapshots_started, (unsigned long long)s.snapshots_installed,
        (unsigned long long)s.forwards, (unsigned long long)s.ops_ok,
        (unsigned long long)s.reads_ok, (unsigned long long)s.writes_ok,
        (unsigned long long)s.cas_ok, (unsigned long long)s.ops_fail,
        (unsigned long long)s.ops_info, s.lin_verdict.c_str(), s.lin_seconds,
        (unsigned long long)s.admin_requests, (unsigned long long)s.admin_ok,
        (unsigned long long)s.wipes, s.min_voters, s.max_voters);
    if (!r.ok) print_failure(r, true);
    return r.ok ? 0 : 1;
  }

  auto t0 = std::chrono::steady_clock::now();
  std::atomic<uint64_t> next{0};
  std::mutex mu;
  uint64_t failures = 0, unknown = 0, ops = 0, crashes = 0, partitions = 0, elections = 0;
  uint64_t compactions = 0, snapshots_sent = 0, snapshots_installed = 0, mid_core = 0;
  uint64_t admin_ok = 0, wipes = 0, ran = 0;
  std::optional<std::pair<uint64_t, std::string>> first_failure;  // (seed, invariant)
  std::atomic<bool> stop{false};
  int min_voters = 0, max_voters = 0;
  // Seeds in progress and when they started: a seed that runs far longer
  // than the others (or eats memory) is named while it runs, not only if
  // it ever finishes.
  std::map<uint64_t, std::chrono::steady_clock::time_point> running;
  auto worker = [&] {
    for (;;) {
      uint64_t k = next++;
      if (k >= f.seeds || stop) return;
      Options o = options_for(f, f.first_seed + k);
      {
        std::lock_guard<std::mutex> lock(mu);
        running[o.seed] = std::chrono::steady_clock::now();
      }
      Result r = raftkv::sim::run(o);
      std::lock_guard<std::mutex> lock(mu);
      running.erase(o.seed);
      ++ran;
      ops += r.stats.ops_ok + r.stats.ops_fail + r.stats.ops_info;
      crashes += r.stats.crashes;
      partitions += r.stats.partitions;
      elections += r.stats.elections;
      compactions += r.stats.compactions;
      snapshots_sent += r.stats.snapshots_started;
      snapshots_installed += r.stats.snapshots_installed;
      mid_core += r.stats.crashes_mid_ready;
      admin_ok += r.stats.admin_ok;
      wipes += r.stats.wipes;
      if (r.stats.min_voters > 0) {
        min_voters =
            min_voters == 0 ? r.stats.min_voters : std::min(min_voters, r.stats.min_voters);
      }
      max_voters = std::max(max_voters, r.stats.max_voters);
      if (r.stats.lin_verdict == "unknown") {
        ++unknown;
        std::printf("linearizability unknown (budget exhausted): %s\n", r.replay.c_str());
      }
      if (!r.ok) {
        ++failures;
        if (!first_failure || o.seed < first_failure->first) first_failure = {o.seed, r.invariant};
        if (f.stop_at_first) stop = true;
        std::printf("seed %llu ", static_cast<unsigned long long>(o.seed));
        print_failure(r, false);
      }
      std::fflush(stdout);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < f.jobs; ++j) threads.emplace_back(worker);
  std::atomic<bool> done{false};
  std::thread watchdog([&] { report_slow_seeds(mu, running, done); });
  for (auto& t : threads) t.join();
  done = true;
  watchdog.join();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "%llu seeds (%llu..%llu), %llu failed, %llu linearizability unknown; %llu client ops, "
      "%llu elections, %llu crashes (%llu inside the core), %llu partitions; %llu compactions, "
      "%llu snapshots sent, %llu installed; %.1fs wall\n",
      (unsigned long long)ran, (unsigned long long)f.first_seed,
      (unsigned long long)(f.first_seed + f.seeds - 1), (unsigned long long)failures,
      (unsigned long long)unknown, (unsigned long long)ops, (unsigned long long)elections,
      (unsigned long long)crashes, (unsigned long long)mid_core, (unsigned long long)partitions,
      (unsigned long long)compactions, (unsigned long long)snapshots_sent,
      (unsigned long long)snapshots_installed, wall);
  std::string bug = raftkv::sim::to_string(f.base.bugs);
  if (!bug.empty()) {
    if (first_failure) {
      std::printf("bug %s: caught, first at seed %llu by %s\n", bug.c_str(),
                  static_cast<unsigned long long>(first_failure->first),
                  first_failure->second.c_str());
    } else {
      std::printf("bug %s: NOT caught in these seeds\n", bug.c_str());
    }
  }
  if (f.base.membership) {
    std::printf("membership: %llu changes done, %llu servers wiped and re-added, voters %d..%d\n",
                (unsigned long long)admin_ok, (unsigned long long)wipes, min_voters, max_voters);
  }
  return failures ? 1 : 0;
}

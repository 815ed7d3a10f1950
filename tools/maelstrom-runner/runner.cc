#include "runner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "clock.h"
#include "cluster.h"
#include "final_reads.h"
#include "member_nemesis.h"
#include "messages_log.h"
#include "netns_mode.h"
#include "plots.h"
#include "report.h"
#include "results.h"
#include "workload.h"

namespace runner {
namespace {

namespace fs = std::filesystem;

// store/lin-kv/20250101T120000.123, as Jepsen names runs.
std::string make_run_dir(const Options& opts) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", std::localtime(&t));
  std::string name = fmt::format("{}.{:03d}", buf, ms);
  fs::path base = fs::path(opts.store) / opts.workload;
  fs::path dir = base / name;
  for (int i = 1; fs::exists(dir); ++i) dir = base / fmt::format("{}-{}", name, i);
  fs::create_directories(dir);
  // Relative links keep the store movable.
  for (auto [link, target] :
       {std::pair{fs::path(opts.store) / "latest", fs::path(opts.workload) / dir.filename()},
        std::pair{base / "latest", dir.filename()}}) {
    std::error_code ec;
    fs::remove(link, ec);
    fs::create_symlink(target, link, ec);
  }
  return dir.string();
}

CpuPoint sample_cpu(const Cluster& cluster, const std::vector<int>& pids) {
  CpuPoint p;
  for (const NodeProcess* n : cluster.processes()) p.nodes.push_back(n->cpu_seconds());
  p.runner = self_cpu_seconds();
  for (int pid : pids) p.external.push_back(proc_cpu_seconds(pid));
  return p;
}

class Progress {
 public:
  Progress(double limit_s) : limit_s_(limit_s), tty_(isatty(2)) {}
  void show(double elapsed, const WorkloadCounts& c, const std::string& faults, const char* phase) {
    int64_t now = mono_ns();
    if (!tty_ && now - last_ < 10 * kSec) return;
    last_ = now;
    std::string line = fmt::format("[{:6.1f}/{:.0f} s] {} ok {} info {} fail {} | faults: {}",
                                   elapsed, limit_s_, phase, c.ok, c.info, c.fail, faults);
    if (tty_)
      fmt::print(stderr, "\r\033[K{}", line);
    else
      fmt::print(stderr, "{}\n", line);
  }
  void done() {
    if (tty_) fmt::print(stderr, "\n");
  }

 private:
  double limit_s_;
  bool tty_;
  int64_t last_ = 0;
};

// messages.jsonl and index.html; a failure is a warning: the run's verdict stands.
void write_report_files(const std::string& run_dir, const lin::CheckReport& check,
                        const HistoryLog& history, const MessagesLog& messages,
                        const Options& opts) {
  if (!messages.write_jsonl(run_dir + "/messages.jsonl", -history.rel(0)))
    fmt::print(stderr, "warning: cannot write {}/messages.jsonl\n", run_dir);
  std::string error;
  if (!write_run_report(run_dir, check, history, &messages, opts.nodes, opts.concurrency, &error))
    fmt::print(stderr, "warning: no HTML report: {}\n", error);
}

int run_one(const Options& opts, uint64_t seed) {
  std::string run_dir = make_run_dir(opts);
  fmt::print(stderr, "maelstrom-runner: {} nodes, concurrency {}, seed {}, results in {}\n",
             opts.nodes.size(), opts.concurrency, seed, run_dir);
  // One stream per component, so e.g. the nemesis' choices for a seed do not
  // depend on how many operations the workload happened to draw meanwhile.
  auto lo = static_cast<uint32_t>(seed), hi = static_cast<uint32_t>(seed >> 32);
  std::seed_seq s1{lo, hi, 1u}, s2{lo, hi, 2u}, s3{lo, hi, 3u};
  std::mt19937_64 rng(s1), net_rng(s2), nemesis_rng(s3);
  EventLoop loop;
  Problems problems;
  Network net(loop, net_rng, opts.latency_ms, opts.latency_dist, problems);
  // --net netns: declared before the cluster, so its namespaces outlive the
  // servers inside them.
  std::unique_ptr<NetnsMode> netns;
  if (opts.net.mode == NetMode::kNetns) {
    netns = std::make_unique<NetnsMode>(loop, net, problems, opts, seed);
    std::string why;
    if (!netns->setup(&why)) {
      fmt::print(stderr, "error: --net netns: {}\n", why);
      return 2;
    }
  }
  MessagesLog messages;  // for the report's message diagram
  net.set_messages_log(&messages);
  int next_client = opts.concurrency;  // c0..c(C-1) are the workers
  Cluster cluster(loop, net, problems, opts, run_dir, &next_client,
                  netns ? netns->cluster_hooks() : ClusterHooks{});
  auto procs = cluster.processes();
  loop.add_tick([&procs] { reap_children(procs); });

  auto fail_setup = [&](const std::string& why) {
    cluster.stop_all();
    fmt::print(stderr, "error: {}\n", why);
    for (const auto& [kind, k] : problems.kinds())
      for (const auto& e : k.examples) fmt::print(stderr, "  {}: {}\n", kind, e);
    return 2;
  };
  RunResult r;
  Resources& res = r.resources;
  res.node_ids = opts.nodes;
  res.external_pids = opts.cpu_pids;
  res.begin = sample_cpu(cluster, opts.cpu_pids);
  std::string error;
  if (!cluster.start_all(&error)) return fail_setup(error);
  if (!cluster.init_all(&error)) return fail_setup(error);
  if (netns && !netns->wait_ready(&error)) return fail_setup(error);

  int64_t t0 = mono_ns();
  HistoryLog history(t0, run_dir);
  // Maelstrom's client timeout.
  int64_t timeout = std::max<int64_t>(kSec, 10 * opts.latency_ms * kMs);
  LinKvGenerator gen({opts.concurrency, static_cast<int>(opts.nodes.size()), opts.process_limit,
                      opts.per_key_limit, opts.mix, opts.key_count},
                     rng);
  Workload workload(loop, net, rng, gen, history, opts.nodes, opts.concurrency, opts.rate, timeout);
  Nemesis nemesis(loop, nemesis_rng, cluster, history, opts.nemesis, opts.nemesis_interval_s);
  // Membership changes (--nemesis member, --member-plan); with
  // --initial-members alone, only the tracking, so that the final reads skip
  // the nodes that never joined.
  std::unique_ptr<MembershipTracker> tracker;
  std::unique_ptr<MemberNemesis> member;
  if (opts.nemesis.count("member") || !opts.member_plan.empty() || opts.initial_members > 0) {
    size_t k = opts.initial_members > 0 ? opts.initial_members : opts.nodes.size();
    tracker = std::make_unique<MembershipTracker>(
        opts.nodes, std::vector<std::string>(opts.nodes.begin(), opts.nodes.begin() + k));
    member = std::make_unique<MemberNemesis>(loop, net, nemesis_rng, cluster, history, *tracker,
                                             fmt::format("c{}", next_client++));
    nemesis.set_member(member.get());
  }

  int64_t end = t0 + static_cast<int64_t>(opts.time_limit_s * kSec);
  Progress progress(opts.time_limit_s);
  const char* phase = "run";
  std::function<void()> show = [&] {
    progress.show((mono_ns() - t0) / 1e9, workload.counts(), nemesis.describe_active(), phase);
    loop.after(kSec / 2, show);
  };
  show();
  // CPU at the workload's start, end of warm-up and time limit, so CPU per op
  // can be taken over the same steady window as the throughput.
  double warmup_s = std::min(opts.warmup_s, opts.time_limit_s);
  int64_t warm = t0 + static_cast<int64_t>(warmup_s * kSec);
  res.start = sample_cpu(cluster, opts.cpu_pids);
  loop.at(warm, [&] { res.warm = sample_cpu(cluster, opts.cpu_pids); });
  loop.at(end, [&] { res.end = sample_cpu(cluster, opts.cpu_pids); });
  workload.start(end);
  nemesis.start(end);
  if (member) member->schedule_plan(opts.member_plan, t0);
  loop.run_until([&] { return workload.finished(); });
  double duration_s = (mono_ns() - t0) / 1e9;

  // Heal everything, let the cluster settle, then read every key everywhere.
  phase = "heal";
  nemesis.heal_all();
  if (member) {
    // Let the change under way finish (each step has its own deadline).
    int64_t member_deadline = mono_ns() + 40 * kSec;
    loop.run_until([&] { return member->idle() || mono_ns() >= member_deadline; });
  }
  cluster.restart_crashed();
  int64_t heal_deadline = mono_ns() + 10 * kSec;
  loop.run_until([&] { return cluster.pending_inits() == 0 || mono_ns() >= heal_deadline; });
  int64_t settle = mono_ns() + static_cast<int64_t>(opts.recovery_s * kSec);
  loop.run_until([&] { return mono_ns() >= settle; });
  phase = "final reads";
  // Final reads go through the voters only: removed nodes refuse (error 11),
  // and learners or nodes never added may lag.
  std::vector<std::string> read_nodes = opts.nodes;
  if (member) {
    if (member->idle()) {
      bool viewed = false;
      member->refresh(mono_ns() + 10 * kSec, [&](bool) { viewed = true; });
      loop.run_until([&] { return viewed; });
    }
    if (!tracker->voters().empty()) read_nodes = tracker->voters();
    fmt::print(stderr, "final reads through voters {}\n", fmt::join(read_nodes, ","));
  }
  FinalReads finals(loop, net, history, read_nodes, workload.keys_used(),
                    workload.next_free_process(), next_client, timeout);
  next_client += read_nodes.size();
  finals.start(mono_ns() + static_cast<int64_t>(opts.final_timeout_s * kSec));
  loop.run_until([&] { return finals.finished(); });
  progress.show((mono_ns() - t0) / 1e9, workload.counts(), "none", "done");
  progress.done();
  cluster.stop_all();
  history.flush();
  if (netns) {
    netns->teardown();
    r.net = netns->summary(history);
    fmt::print(stderr, "net: {}\n", r.net.dump());
  }
  res.exit = sample_cpu(cluster, opts.cpu_pids);
  for (const NodeProcess* n : cluster.processes()) {
    res.node_starts.push_back(n->starts());
    res.node_stats.push_back(summarize_stats(n->stats_samples(), warm, end));
  }

  lin::CheckOptions copts;
  copts.budget = std::chrono::milliseconds(static_cast<int64_t>(opts.check_budget_s * 1000));
  r.check = lin::check(history.events(), copts);
  r.stats = compute_stats(history.ops(), net.stats(), duration_s, warmup_s, opts.time_limit_s);
  res.runner_exit = self_cpu_seconds();
  r.final_unread = finals.unread();
  if (finals.unread() > 0)
    problems.add("final-reads-incomplete",
                 fmt::format("{} key/node pairs had no ok read within {} s after healing",
                             finals.unread(), opts.final_timeout_s));
  r.availability_required = opts.availability;
  if (opts.availability) r.availability_ok = r.stats.availability >= *opts.availability;
  r.verdict = overall_verdict(r);
  r.power = cluster.power_summary();
  if (member) r.membership = member->summary();
  if (!r.power.is_null()) fmt::print(stderr, "power: {}\n", r.power.dump());
  write_results_json(run_dir + "/results.json", opts, r, history, problems);
  if (opts.plots) {
    std::string warning;
    if (!write_plots(run_dir, history, opts.time_limit_s, &warning))
      fmt::print(stderr, "warning: {}\n", warning);
  }
  write_report_files(run_dir, r.check, history, messages, opts);
  fmt::print("{}", summary_text(r, problems));
  fmt::print("results: {}\n", run_dir);
  const char* word = r.verdict == lin::Verdict::kValid ? "Everything looks good! ヽ(‘ー`)ノ"
                     : r.verdict == lin::Verdict::kInvalid
                         ? "Analysis invalid! (ﾉಥ益ಥ）ﾉ ┻━┻"
                         : "Errors occurred during analysis, but no anomalies found. ಠ~ಠ";
  fmt::print("{}\n", word);
  return exit_code(r.verdict);
}

}  // namespace

int run_tests(const Options& opts) {
  int worst = 0;
  for (int i = 0; i < opts.test_count; ++i) {
    if (opts.test_count > 1)
      fmt::print(stderr, "maelstrom-runner: test {} of {}\n", i + 1, opts.test_count);
    int rc = run_one(opts, opts.seed + i);
    if (rc != 0) return rc;
    worst = std::max(worst, rc);
  }
  return worst;
}

}  // namespace runner

#include "results.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>

namespace runner {

lin::Verdict overall_verdict(const RunResult& r) {
  if (r.check.verdict == lin::Verdict::kInvalid || !r.availability_ok)
    return lin::Verdict::kInvalid;
  return r.check.verdict;
}

int exit_code(lin::Verdict v) {
  switch (v) {
    case lin::Verdict::kValid:
      return 0;
    case lin::Verdict::kInvalid:
      return 1;
    default:
      return 2;
  }
}

namespace {

nlohmann::ordered_json verdict_json(lin::Verdict v) {
  if (v == lin::Verdict::kValid) return true;
  if (v == lin::Verdict::kInvalid) return false;
  return "unknown";
}

nlohmann::ordered_json options_json(const Options& o) {
  nlohmann::ordered_json j;
  j["workload"] = o.workload;
  j["bin"] = o.bin;
  j["args"] = o.args;
  j["nodes"] = o.nodes;
  j["concurrency"] = o.concurrency;
  j["time-limit"] = o.time_limit_s;
  j["rate"] = o.rate;
  j["latency"] = o.latency_ms;
  j["latency-dist"] = o.latency_dist == LatencyDist::kConstant  ? "constant"
                      : o.latency_dist == LatencyDist::kUniform ? "uniform"
                                                                : "exponential";
  j["nemesis"] = std::vector<std::string>(o.nemesis.begin(), o.nemesis.end());
  j["nemesis-interval"] = o.nemesis_interval_s;
  if (o.initial_members > 0) j["initial-members"] = o.initial_members;
  if (!o.member_plan.empty()) {
    j["member-plan"] = nlohmann::ordered_json::array();
    for (const auto& p : o.member_plan)
      j["member-plan"].push_back({{"at-s", p.at_s}, {"action", p.action}, {"node", p.node}});
  }
  j["seed"] = o.seed;
  j["process-limit"] = o.process_limit;
  if (o.per_key_limit) j["per-key-limit"] = *o.per_key_limit;
  if (!o.mix.empty()) j["mix"] = o.mix;
  if (o.key_count) j["keys"] = *o.key_count;
  j["warmup"] = o.warmup_s;
  if (!o.cpu_pids.empty()) j["cpu-pids"] = o.cpu_pids;
  return j;
}

nlohmann::ordered_json latency_json(const LatencySummary& l) {
  return {{"p50", l.p50}, {"p95", l.p95}, {"p99", l.p99}, {"max", l.max}, {"n", l.n}};
}

nlohmann::ordered_json latency_by_f_json(const std::map<std::string, LatencySummary>& m) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [f, l] : m) j[f] = latency_json(l);
  return j;
}

double at(const std::vector<double>& v, size_t i) {
  return i < v.size() ? v[i] : 0;  // a point that was never sampled counts 0
}

double sum(const std::vector<double>& v) {
  double t = 0;
  for (double x : v) t += x;
  return t;
}

// CPU seconds spent between two points by nodes, the runner and --cpu-pids.
nlohmann::ordered_json cpu_json(const RunResult& r) {
  const Resources& res = r.resources;
  const RunStats& s = r.stats;
  auto per_op = [](double cpu_s, int64_t ops) { return ops > 0 ? cpu_s * 1e6 / ops : 0.0; };
  nlohmann::ordered_json j;
  j["how"] =
      "utime+stime: live processes from /proc/PID/stat, exited nodes from wait4 rusage; "
      "run = whole life, workload = start..time limit, steady = warm-up..time limit";
  auto& nodes = j["nodes"];
  for (size_t i = 0; i < res.node_ids.size(); ++i) {
    nodes[res.node_ids[i]] = {{"run-s", at(res.exit.nodes, i)},
                              {"workload-s", at(res.end.nodes, i) - at(res.start.nodes, i)},
                              {"steady-s", at(res.end.nodes, i) - at(res.warm.nodes, i)},
                              {"starts", i < res.node_starts.size() ? res.node_starts[i] : 0}};
  }
  double nodes_run = sum(res.exit.nodes), nodes_steady = sum(res.end.nodes) - sum(res.warm.nodes);
  j["nodes-total"] = {{"run-s", nodes_run},
                      {"workload-s", sum(res.end.nodes) - sum(res.start.nodes)},
                      {"steady-s", nodes_steady}};
  double runner_steady = res.end.runner - res.warm.runner;
  j["runner"] = {{"run-s", res.runner_exit},
                 {"workload-s", res.end.runner - res.start.runner},
                 {"steady-s", runner_steady}};
  double ext_steady = 0;
  auto& ext = j["external"];
  ext = nlohmann::ordered_json::object();
  for (size_t i = 0; i < res.external_pids.size(); ++i) {
    auto d = [&](const CpuPoint& a, const CpuPoint& b) -> nlohmann::ordered_json {
      if (a.external.size() <= i || b.external.size() <= i || !a.external[i] || !b.external[i])
        return nullptr;  // the process was not there
      return *b.external[i] - *a.external[i];
    };
    auto steady = d(res.warm, res.end);
    if (steady.is_number()) ext_steady += steady.get<double>();
    ext[std::to_string(res.external_pids[i])] = {{"run-s", d(res.begin, res.exit)},
                                                 {"workload-s", d(res.start, res.end)},
                                                 {"steady-s", steady}};
  }
  int64_t steady_ok = s.steady ? s.steady->ok : 0;
  auto& us = j["us-per-ok-op"];
  us["nodes-run"] = per_op(nodes_run, s.ok);
  us["nodes-steady"] = per_op(nodes_steady, steady_ok);
  us["runner-steady"] = per_op(runner_steady, steady_ok);
  if (!res.external_pids.empty()) us["external-steady"] = per_op(ext_steady, steady_ok);
  return j;
}

nlohmann::ordered_json fields_json(const std::map<std::string, std::string>& fields) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const auto& [k, v] : fields) {
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (!v.empty() && *end == '\0')
      j[k] = n;
    else
      j[k] = v;
  }
  return j;
}

// fsyncs/s and entries per fsync from the nodes' "raftkv stats:" lines.
nlohmann::ordered_json node_stats_json(const Resources& res) {
  nlohmann::ordered_json j, nodes = nlohmann::ordered_json::object();
  double syncs = 0, entries = 0, fsyncs_per_s = 0;
  int leader = -1;
  bool windowed = true;
  for (size_t i = 0; i < res.node_stats.size(); ++i) {
    const NodeStatsSummary& n = res.node_stats[i];
    if (n.samples == 0) continue;
    nodes[res.node_ids[i]] = {{"role", n.role},
                              {"fsyncs-per-s", n.fsyncs_per_s()},
                              {"entries-per-fsync", n.entries_per_fsync()},
                              {"commits-per-s", n.span_s > 0 ? n.commits / n.span_s : 0},
                              {"syncs", n.total_syncs},
                              {"synced-entries", n.total_entries},
                              {"samples", n.samples},
                              {"windowed", n.windowed},
                              {"last", fields_json(n.last)}};
    syncs += n.syncs;
    entries += n.entries;
    fsyncs_per_s += n.fsyncs_per_s();
    windowed = windowed && n.windowed;
    if (leader < 0 || n.leader_samples > res.node_stats[leader].leader_samples)
      leader = static_cast<int>(i);
  }
  if (nodes.empty()) return nullptr;  // nodes print no stats lines
  j["window"] = windowed ? "steady" : "whole run (too few lines in the steady window)";
  j["nodes"] = nodes;
  j["cluster"] = {{"fsyncs-per-s", fsyncs_per_s},
                  {"entries-per-fsync", syncs > 0 ? entries / syncs : 0}};
  if (leader >= 0 && res.node_stats[leader].leader_samples > 0) {
    const NodeStatsSummary& l = res.node_stats[leader];
    j["leader"] = {{"node", res.node_ids[leader]},
                   {"fsyncs-per-s", l.fsyncs_per_s()},
                   {"entries-per-fsync", l.entries_per_fsync()}};
  }
  return j;
}

}  // namespace

void write_results_json(const std::string& path, const Options& opts, const RunResult& r,
                        const HistoryLog& history, const Problems& problems) {
  const RunStats& s = r.stats;
  nlohmann::ordered_json j;
  j["valid?"] = verdict_json(r.verdict);

  auto& lj = j["linearizability"];
  lj["valid?"] = verdict_json(r.check.verdict);
  lj["checker-seconds"] = r.check.seconds;
  lj["key-count"] = r.check.keys.size();
  lj["keys"] = nlohmann::ordered_json::array();
  for (const auto& k : r.check.keys) {
    nlohmann::ordered_json kj;
    kj["key"] = k.key;
    kj["valid?"] = verdict_json(k.verdict);
    kj["ops"] = k.ops;
    if (!k.explanation.empty()) kj["explanation"] = k.explanation;
    if (!k.window.empty()) {
      kj["window"] = nlohmann::ordered_json::array();
      for (const auto& e : k.window)
        kj["window"].push_back(nlohmann::ordered_json::parse(lin::to_jsonl(e)));
    }
    lj["keys"].push_back(kj);
  }

  auto& aj = j["availability"];
  aj["ok-fraction"] = s.availability;
  if (r.availability_required) {
    aj["required"] = *r.availability_required;
    aj["valid?"] = r.availability_ok;
  }

  auto& cj = j["stats"];
  cj["ops"] = s.ops;
  cj["ok"] = s.ok;
  cj["info"] = s.info;
  cj["fail"] = s.fail;
  cj["pending"] = s.pending;
  cj["by-f"] = s.by_f;

  j["latency-ms"] = latency_json(s.latency);
  j["latency-ms"]["by-f"] = latency_by_f_json(s.latency_by_f);
  j["throughput"] = {{"duration-s", s.duration_s},
                     {"ok-per-s", s.throughput_ok},
                     {"completed-per-s", s.throughput_total},
                     {"ok-per-s-by-f", s.throughput_ok_by_f}};
  if (s.steady) {
    // Leaves out the warm-up (first election), where closed-loop clients spin on errors.
    j["steady"] = {{"window-s", {s.steady->from_s, s.steady->to_s}},
                   {"ok", s.steady->ok},
                   {"fail", s.steady->fail},
                   {"info", s.steady->info},
                   {"ok-per-s", s.steady->ok_per_s},
                   {"ok-per-s-by-f", s.steady->ok_per_s_by_f},
                   {"latency-ms", latency_json(s.steady->latency)}};
    j["steady"]["latency-ms"]["by-f"] = latency_by_f_json(s.steady->latency_by_f);
  }
  auto gap_json = [](const WriteGap& g) {
    return nlohmann::ordered_json{
        {"longest-ms", g.ms}, {"from-s", g.from_s}, {"to-s", g.to_s}, {"ok-writes", g.ok_writes}};
  };
  // The longest time no write or cas succeeded (elections, membership changes).
  j["availability-gap"] = {{"how", "longest interval with no ok write/cas completion"},
                           {"run", gap_json(s.write_gap)}};
  if (s.steady) j["availability-gap"]["steady"] = gap_json(s.steady_write_gap);
  if (!r.membership.is_null()) j["membership"] = nlohmann::ordered_json::parse(r.membership.dump());
  j["cpu"] = cpu_json(r);
  if (auto ns = node_stats_json(r.resources); !ns.is_null()) j["node-stats"] = ns;
  j["net"] = {{"server-msgs", s.net.server_sent},
              {"client-msgs", s.net.client_sent},
              {"delivered", s.net.delivered},
              {"dropped-partition", s.net.dropped_partition},
              {"dropped-node-down", s.net.dropped_down},
              {"server-msgs-per-op", s.server_msgs_per_op},
              {"msgs-per-op", s.all_msgs_per_op}};
  j["final-reads"] = {
      {"reads", s.final_reads}, {"ok", s.final_reads_ok}, {"unread", r.final_unread}};

  auto& nj = j["nemesis"];
  nj = nlohmann::ordered_json::array();
  for (const auto& n : history.nemesis_events())
    nj.push_back(
        {{"time", n.time}, {"f", n.f}, {"value", nlohmann::ordered_json::parse(n.value.dump())}});

  auto& pj = j["problems"];
  pj = nlohmann::ordered_json::object();
  for (const auto& [kind, k] : problems.kinds())
    pj[kind] = {{"count", k.count}, {"examples", k.examples}};

  j["options"] = options_json(opts);
  if (!r.power.is_null()) j["power"] = nlohmann::ordered_json::parse(r.power.dump());
  if (!r.net.is_null()) j["net"] = nlohmann::ordered_json::parse(r.net.dump());
  std::ofstream(path) << j.dump(2) << '\n';
}

std::string violations_text(const lin::CheckReport& report, size_t max_keys) {
  std::string out;
  size_t shown = 0;
  for (const auto& k : report.keys) {
    if (k.verdict != lin::Verdict::kInvalid) continue;
    if (shown++ == max_keys) {
      out += "  (more invalid keys in results.json)\n";
      break;
    }
    out += fmt::format("  key {} is not linearizable:\n", k.key.dump());
    std::string text = k.explanation;
    if (text.empty()) {
      for (const auto& e : k.window) text += lin::to_jsonl(e) + "\n";
    }
    size_t start = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      out += "    " + text.substr(start, nl == std::string::npos ? nl : nl - start) + "\n";
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  return out;
}

std::string summary_text(const RunResult& r, const Problems& problems) {
  const RunStats& s = r.stats;
  std::string out;
  out +=
      fmt::format("ops {}: ok {}, info {}, fail {}{} | availability {:.3f}\n", s.ops, s.ok, s.info,
                  s.fail, s.pending ? fmt::format(", pending {}", s.pending) : "", s.availability);
  for (const auto& [f, types] : s.by_f) {
    std::string line = fmt::format("  {:5}", f);
    for (const auto& [t, n] : types) line += fmt::format(" {} {}", t, n);
    out += line + "\n";
  }
  out += fmt::format("latency ok ms: p50 {:.1f} p95 {:.1f} p99 {:.1f} max {:.1f}\n", s.latency.p50,
                     s.latency.p95, s.latency.p99, s.latency.max);
  out += fmt::format("throughput: {:.1f} ok/s, {:.1f} completed/s over {:.1f} s\n", s.throughput_ok,
                     s.throughput_total, s.duration_s);
  out += fmt::format("longest write gap: {:.0f} ms ({:.2f}-{:.2f} s)", s.write_gap.ms,
                     s.write_gap.from_s, s.write_gap.to_s);
  if (s.steady)
    out += fmt::format("; after warm-up {:.0f} ms ({:.2f}-{:.2f} s)", s.steady_write_gap.ms,
                       s.steady_write_gap.from_s, s.steady_write_gap.to_s);
  out += "\n";
  if (!r.membership.is_null())
    out += fmt::format(
        "membership: {} removed, {} promoted ({} re-added after a replacement; {} replaced), "
        "{} transfers; final voters {}\n",
        r.membership.value("removed", 0), r.membership.value("promoted", 0),
        r.membership.value("readded", 0), r.membership.value("replaced", 0),
        r.membership.value("transfers", 0), r.membership.at("final").at("voters").dump());
  if (s.steady)
    out += fmt::format("steady {:.1f}-{:.1f} s: {:.1f} ok/s, latency ms p50 {:.2f} p99 {:.2f}\n",
                       s.steady->from_s, s.steady->to_s, s.steady->ok_per_s, s.steady->latency.p50,
                       s.steady->latency.p99);
  const Resources& res = r.resources;
  if (!res.node_ids.empty()) {
    double nodes = sum(res.exit.nodes);
    out += fmt::format("cpu: nodes {:.2f} s, runner {:.2f} s", nodes, res.runner_exit);
    if (s.steady && s.steady->ok > 0)
      out += fmt::format(", steady nodes {:.1f} us/ok op",
                         (sum(res.end.nodes) - sum(res.warm.nodes)) * 1e6 / s.steady->ok);
    out += "\n";
  }
  out +=
      fmt::format("messages: {} server-server, {} client; {:.2f} server msgs/op, {:.2f} msgs/op\n",
                  s.net.server_sent, s.net.client_sent, s.server_msgs_per_op, s.all_msgs_per_op);
  out += fmt::format(
      "final reads: {} ok of {} attempts{}\n", s.final_reads_ok, s.final_reads,
      r.final_unread ? fmt::format(", {} key/node pairs never read", r.final_unread) : "");
  for (const auto& [kind, k] : problems.kinds()) {
    out += fmt::format("problem: {} x{}\n", kind, k.count);
    for (const auto& e : k.examples) out += "  " + e + "\n";
  }
  size_t invalid = 0, unknown = 0;
  for (const auto& k : r.check.keys) {
    invalid += k.verdict == lin::Verdict::kInvalid;
    unknown += k.verdict == lin::Verdict::kUnknown;
  }
  out += fmt::format("linearizability: {} ({} keys, {} invalid, {} unknown, checked in {:.2f} s)\n",
                     lin::to_string(r.check.verdict), r.check.keys.size(), invalid, unknown,
                     r.check.seconds);
  out += violations_text(r.check);
  if (r.availability_required)
    out += fmt::format("availability {:.3f} {} required {:.3f}\n", s.availability,
                       r.availability_ok ? ">=" : "<", *r.availability_required);
  return out;
}

}  // namespace runner

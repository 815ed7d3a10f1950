#include "results.h"

#include <fmt/format.h>

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
  j["seed"] = o.seed;
  j["process-limit"] = o.process_limit;
  if (o.per_key_limit) j["per-key-limit"] = *o.per_key_limit;
  if (!o.mix.empty()) j["mix"] = o.mix;
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

  j["latency-ms"] = {{"p50", s.latency.p50},
                     {"p95", s.latency.p95},
                     {"p99", s.latency.p99},
                     {"max", s.latency.max},
                     {"n", s.latency.n}};
  j["throughput"] = {{"duration-s", s.duration_s},
                     {"ok-per-s", s.throughput_ok},
                     {"completed-per-s", s.throughput_total}};
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

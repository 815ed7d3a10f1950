#include "stats.h"

#include <algorithm>
#include <cmath>

namespace runner {

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(q * sorted.size()));
  return sorted[std::min(sorted.size() - 1, i == 0 ? 0 : i - 1)];
}

LatencySummary summarize_latency(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {quantile(ms, 0.5), quantile(ms, 0.95), quantile(ms, 0.99), ms.empty() ? 0 : ms.back(),
          static_cast<int64_t>(ms.size())};
}

WriteGap longest_write_gap(const std::vector<OpRecord>& ops, double from_s, double to_s) {
  int64_t from_ns = static_cast<int64_t>(from_s * 1e9), to_ns = static_cast<int64_t>(to_s * 1e9);
  std::vector<int64_t> done{from_ns, to_ns};  // the window's ends bound the first and last gap
  for (const auto& op : ops) {
    bool write = op.f == lin::Fn::kWrite || op.f == lin::Fn::kCas;
    if (op.final_read || !write || op.type != lin::EventType::kOk) continue;
    if (op.complete_ns > from_ns && op.complete_ns < to_ns) done.push_back(op.complete_ns);
  }
  std::sort(done.begin(), done.end());
  WriteGap g;
  g.ok_writes = static_cast<int64_t>(done.size()) - 2;
  for (size_t i = 1; i < done.size(); ++i) {
    double ms = (done[i] - done[i - 1]) / 1e6;
    if (ms > g.ms) {
      g.ms = ms;
      g.from_s = done[i - 1] / 1e9;
      g.to_s = done[i] / 1e9;
    }
  }
  return g;
}

RunStats compute_stats(const std::vector<OpRecord>& ops, const NetStats& net, double duration_s,
                       double steady_from_s, double steady_to_s) {
  RunStats s;
  s.net = net;
  s.duration_s = duration_s;
  std::vector<double> lat;
  std::map<std::string, std::vector<double>> lat_by_f, steady_by_f;
  std::vector<double> steady_lat;
  int64_t steady_fail = 0, steady_info = 0;
  int64_t from_ns = static_cast<int64_t>(steady_from_s * 1e9);
  int64_t to_ns = static_cast<int64_t>(steady_to_s * 1e9);
  for (const auto& op : ops) {
    if (op.final_read) {
      ++s.final_reads;
      if (op.type == lin::EventType::kOk) ++s.final_reads_ok;
      continue;
    }
    ++s.ops;
    std::string type = op.complete_ns < 0 ? "pending" : lin::to_string(op.type);
    ++s.by_f[lin::to_string(op.f)][type];
    switch (op.type) {
      case lin::EventType::kOk: {
        ++s.ok;
        double ms = (op.complete_ns - op.invoke_ns) / 1e6;
        lat.push_back(ms);
        lat_by_f[lin::to_string(op.f)].push_back(ms);
        if (op.complete_ns >= from_ns && op.complete_ns <= to_ns) {
          steady_lat.push_back(ms);
          steady_by_f[lin::to_string(op.f)].push_back(ms);
        }
        break;
      }
      case lin::EventType::kFail:
        ++s.fail;
        steady_fail += op.complete_ns >= from_ns && op.complete_ns <= to_ns;
        break;
      case lin::EventType::kInfo:
        ++s.info;
        steady_info += op.complete_ns >= from_ns && op.complete_ns <= to_ns;
        break;
      case lin::EventType::kInvoke:
        ++s.pending;
        break;
    }
  }
  int64_t completed = s.ok + s.info + s.fail;
  s.availability = completed ? static_cast<double>(s.ok) / completed : 0;
  s.latency = summarize_latency(std::move(lat));
  for (auto& [f, v] : lat_by_f) {
    if (duration_s > 0) s.throughput_ok_by_f[f] = v.size() / duration_s;
    s.latency_by_f[f] = summarize_latency(std::move(v));
  }
  if (duration_s > 0) {
    s.throughput_ok = s.ok / duration_s;
    s.throughput_total = completed / duration_s;
  }
  if (steady_to_s > steady_from_s) {
    WindowStats w;
    w.from_s = steady_from_s;
    w.to_s = steady_to_s;
    double span = steady_to_s - steady_from_s;
    w.ok = static_cast<int64_t>(steady_lat.size());
    w.fail = steady_fail;
    w.info = steady_info;
    w.ok_per_s = w.ok / span;
    w.latency = summarize_latency(std::move(steady_lat));
    for (auto& [f, v] : steady_by_f) {
      w.ok_per_s_by_f[f] = v.size() / span;
      w.latency_by_f[f] = summarize_latency(std::move(v));
    }
    s.steady = std::move(w);
  }
  double limit_s = steady_to_s > 0 ? steady_to_s : duration_s;
  s.write_gap = longest_write_gap(ops, 0, limit_s);
  if (steady_to_s > steady_from_s)
    s.steady_write_gap = longest_write_gap(ops, steady_from_s, steady_to_s);
  // Like Maelstrom's net checker: messages per client operation.
  int64_t all_ops = s.ops + s.final_reads;
  if (all_ops > 0) {
    s.server_msgs_per_op = static_cast<double>(net.server_sent) / all_ops;
    s.all_msgs_per_op = static_cast<double>(net.server_sent + net.client_sent) / all_ops;
  }
  return s;
}

}  // namespace runner

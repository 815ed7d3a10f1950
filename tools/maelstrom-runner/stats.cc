#include "stats.h"

#include <algorithm>
#include <cmath>

namespace runner {

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(q * sorted.size()));
  return sorted[std::min(sorted.size() - 1, i == 0 ? 0 : i - 1)];
}

RunStats compute_stats(const std::vector<OpRecord>& ops, const NetStats& net, double duration_s) {
  RunStats s;
  s.net = net;
  s.duration_s = duration_s;
  std::vector<double> lat;
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
      case lin::EventType::kOk:
        ++s.ok;
        lat.push_back((op.complete_ns - op.invoke_ns) / 1e6);
        break;
      case lin::EventType::kFail:
        ++s.fail;
        break;
      case lin::EventType::kInfo:
        ++s.info;
        break;
      case lin::EventType::kInvoke:
        ++s.pending;
        break;
    }
  }
  int64_t completed = s.ok + s.info + s.fail;
  s.availability = completed ? static_cast<double>(s.ok) / completed : 0;
  std::sort(lat.begin(), lat.end());
  s.latency = {quantile(lat, 0.5), quantile(lat, 0.95), quantile(lat, 0.99),
               lat.empty() ? 0 : lat.back(), static_cast<int64_t>(lat.size())};
  if (duration_s > 0) {
    s.throughput_ok = s.ok / duration_s;
    s.throughput_total = completed / duration_s;
  }
  // Like Maelstrom's net checker: messages per client operation.
  int64_t all_ops = s.ops + s.final_reads;
  if (all_ops > 0) {
    s.server_msgs_per_op = static_cast<double>(net.server_sent) / all_ops;
    s.all_msgs_per_op = static_cast<double>(net.server_sent + net.client_sent) / all_ops;
  }
  return s;
}

}  // namespace runner

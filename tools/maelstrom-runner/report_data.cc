// The JSON the report's script draws from: operations as columns (one array
// per field, so 100,000 ops stay a few MB), nemesis windows, the invalid keys'
// anomalies and a bounded sample of the network's messages.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "report.h"

namespace runner {
namespace {

using nlohmann::json;

int64_t to_us(int64_t ns, int64_t base) {
  return (ns - base) / 1000;
}

std::string text_of(const json& v) {
  return v.dump(-1, ' ', false, json::error_handler_t::replace);
}

class Interner {
 public:
  int intern(const std::string& s) {
    auto [it, fresh] = ids_.emplace(s, static_cast<int>(names_.size()));
    if (fresh) names_.push_back(s);
    return it->second;
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::unordered_map<std::string, int> ids_;
  std::vector<std::string> names_;
};

// Ops (invoke + completion) as columns; op_of[event] maps invoke events to ops.
json ops_columns(const ReportInput& in, std::vector<int>* op_of) {
  const auto& h = *in.history;
  json p = json::array(), s = json::array(), e = json::array(), t = json::array(),
       f = json::array(), k = json::array(), v = json::array(), row = json::array();
  Interner keys, values;
  std::unordered_map<int64_t, int> open;  // process -> op
  op_of->assign(h.size(), -1);
  std::map<int64_t, int> rows;  // process -> row, when not by modulo
  for (const auto& ev : h)
    if (in.lanes_modulo <= 0) rows.emplace(ev.process, 0);
  int next_row = 0;
  for (auto& [proc, r] : rows) r = next_row++;
  int n = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    const lin::Event& ev = h[i];
    if (ev.type == lin::EventType::kInvoke) {
      open[ev.process] = n;
      (*op_of)[i] = n++;
      p.push_back(ev.process);
      row.push_back(in.lanes_modulo > 0 ? ev.process % in.lanes_modulo : rows[ev.process]);
      s.push_back(to_us(ev.time, in.time_base_ns));
      e.push_back(-1);
      t.push_back(3);  // pending until completed
      f.push_back(static_cast<int>(ev.f));
      k.push_back(keys.intern(text_of(ev.key)));
      v.push_back(ev.f == lin::Fn::kRead ? -1 : values.intern(text_of(ev.value)));
      continue;
    }
    auto it = open.find(ev.process);
    if (it == open.end()) continue;  // the checker reports such malformed lines
    int op = it->second;
    open.erase(it);
    e[op] = to_us(ev.time, in.time_base_ns);
    t[op] = ev.type == lin::EventType::kOk ? 0 : ev.type == lin::EventType::kInfo ? 1 : 2;
    if (ev.f == lin::Fn::kRead && ev.type == lin::EventType::kOk)
      v[op] = values.intern(text_of(ev.value));
  }
  return {{"p", p},
          {"row", row},
          {"s", s},
          {"e", e},
          {"t", t},
          {"f", f},
          {"k", k},
          {"v", v},
          {"keys", keys.names()},
          {"vals", values.names()},
          {"rows", in.lanes_modulo > 0 ? in.lanes_modulo : next_row}};
}

// start-X / stop-X pairs as [from_us, to_us, kind, detail, nodes].
json nemesis_windows(const ReportInput& in, int64_t end_us) {
  json out = json::array();
  std::map<std::string, std::pair<int64_t, json>> open;
  auto close = [&](const std::string& kind, int64_t to) {
    auto it = open.find(kind);
    if (it == open.end()) return;
    const json& v = it->second.second;
    std::string detail = v.is_object() && v.contains("spec") ? text_of(v["spec"]) : "";
    json nodes = v.is_object() && v.contains("nodes") ? v["nodes"] : json::array();
    if (v.is_object() && v.contains("grudge")) detail += " grudge " + text_of(v["grudge"]);
    out.push_back({it->second.first, to, kind, detail, nodes});
    open.erase(it);
  };
  for (const NemesisEvent& n : in.nemesis) {
    int64_t at = to_us(n.time, in.time_base_ns);
    bool start = n.f.rfind("start-", 0) == 0;
    std::string kind = n.f.substr(n.f.find('-') + 1);
    close(kind, at);
    if (start) open[kind] = {at, n.value};
  }
  while (!open.empty()) close(open.begin()->first, end_us);
  // Closed in stop order; the script wants them by start (the first fault).
  std::stable_sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return a[0].get<int64_t>() < b[0].get<int64_t>();
  });
  return out;
}

json anomalies(const ReportInput& in, const std::vector<int>& op_of) {
  json out = json::array();
  auto op = [&](size_t event) { return event < op_of.size() ? op_of[event] : -1; };
  for (const lin::KeyReport& k : in.check->keys) {
    if (k.verdict != lin::Verdict::kInvalid) continue;
    json a = {{"key", text_of(k.key)}, {"why", k.why}, {"explanation", k.explanation}};
    json prefix = json::array(), window = json::array();
    for (size_t e : k.prefix) prefix.push_back(op(e));
    for (size_t e : k.window_ops) window.push_back(op(e));
    a["prefix"] = prefix;
    a["window"] = window;
    a["stuck"] = k.stuck == lin::KeyReport::kNoOp ? -1 : op(k.stuck);
    out.push_back(a);
  }
  return out;
}

// Which messages to embed: all if few; otherwise the first ones sent in every
// second (a complete picture of the start of each second) and, first, those
// around the first anomaly. Returns indexes sorted by send time and the
// [from_us, to_us] ranges where no message was left out.
std::vector<size_t> pick_messages(const std::vector<MessageRecord>& recs, int64_t t0,
                                  const std::vector<std::pair<int64_t, int64_t>>& focus_us,
                                  const std::vector<int64_t>& faults_us, json* complete) {
  std::vector<size_t> order(recs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return recs[a].sent_ns < recs[b].sent_ns; });
  auto us = [&](size_t i) { return (recs[i].sent_ns - t0) / 1000; };
  *complete = json::array();
  if (order.empty()) return order;
  if (order.size() <= kMaxEmbeddedMessages) {
    complete->push_back({us(order.front()), us(order.back())});
    return order;
  }
  std::vector<bool> taken(recs.size());
  std::vector<size_t> out;
  // Take messages sent in [from, to) in order, up to `budget`.
  auto take_range = [&](int64_t from, int64_t to, size_t budget) {
    auto it = std::lower_bound(order.begin(), order.end(), from,
                               [&](size_t i, int64_t v) { return us(i) < v; });
    int64_t last = from;
    size_t n = 0;
    for (; it != order.end() && us(*it) < to; ++it) {
      if (n == budget) {
        to = us(*it);  // complete up to (not including) the first left out
        break;
      }
      if (!taken[*it]) taken[*it] = true, out.push_back(*it), ++n;
      last = us(*it);
    }
    (void)last;
    complete->push_back({from, to});
  };
  size_t focus_budget = kMaxEmbeddedMessages / 4;
  for (auto [from, to] : focus_us) {
    if (out.size() >= focus_budget) break;
    take_range(from - 50'000, to + 50'000, focus_budget - out.size());
  }
  // Then the moments faults start and stop, where protocols get interesting.
  if (!faults_us.empty()) {
    size_t each = kMaxEmbeddedMessages / 4 / faults_us.size();
    for (int64_t t : faults_us) take_range(t - 20'000, t + 200'000, each);
  }
  int64_t first = us(order.front()), last = us(order.back());
  int64_t seconds = std::max<int64_t>(1, (last - first) / 1'000'000 + 1);
  size_t per = (kMaxEmbeddedMessages - std::min(out.size(), kMaxEmbeddedMessages)) / seconds;
  for (int64_t sec = 0; sec < seconds; ++sec)
    take_range(first + sec * 1'000'000, first + (sec + 1) * 1'000'000, per);
  std::sort(out.begin(), out.end(),
            [&](size_t a, size_t b) { return recs[a].sent_ns < recs[b].sent_ns; });
  return out;
}

json messages_json(const ReportInput& in, const json& ops, const json& anomaly_list,
                   const json& nemesis) {
  json out = {{"nodes", in.nodes}, {"file", in.full_messages_file}};
  if (!in.messages) {
    out["total"] = 0;
    return out;
  }
  const auto& recs = in.messages->records();
  std::vector<std::pair<int64_t, int64_t>> focus;
  for (const json& a : anomaly_list) {
    int stuck = a["stuck"].get<int>();
    if (stuck >= 0)
      focus.push_back({ops["s"][stuck].get<int64_t>(),
                       std::max(ops["e"][stuck].get<int64_t>(), ops["s"][stuck].get<int64_t>())});
  }
  // Message times are monotonic; history time 0 is messages_t0_mono, and the
  // report's t=0 is time_base_ns of history time.
  int64_t t0 = in.messages_t0_mono + in.time_base_ns;
  json complete;
  std::vector<int64_t> faults;
  for (const json& n : nemesis)
    for (int i : {0, 1}) faults.push_back(n[i].get<int64_t>());
  std::vector<size_t> pick = pick_messages(recs, t0, focus, faults, &complete);
  json flat = json::array();
  for (size_t i : pick) {
    const MessageRecord& r = recs[i];
    for (int64_t x : {(r.sent_ns - t0) / 1000, (r.done_ns - t0) / 1000, int64_t{r.src},
                      int64_t{r.dest}, int64_t{r.type}, int64_t{static_cast<int>(r.fate)}})
      flat.push_back(x);
  }
  out["names"] = in.messages->names();
  out["m"] = flat;
  out["total"] = recs.size() + in.messages->dropped_over_cap();
  out["embedded"] = pick.size();
  out["complete"] = complete;
  return out;
}

}  // namespace

json report_data(const ReportInput& in) {
  std::vector<int> op_of;
  json ops = ops_columns(in, &op_of);
  int64_t end_us = 0;
  for (const json& x : ops["e"]) end_us = std::max(end_us, x.get<int64_t>());
  for (const json& x : ops["s"]) end_us = std::max(end_us, x.get<int64_t>());
  json a = anomalies(in, op_of);
  json d;
  d["title"] = in.title;
  d["verdict"] = lin::to_string(in.check->verdict);
  d["ops"] = ops;
  d["rowsByWorker"] = in.lanes_modulo > 0;
  d["end"] = end_us;
  d["nemesis"] = nemesis_windows(in, end_us);
  d["anomalies"] = a;
  d["messages"] = messages_json(in, ops, a, d["nemesis"]);
  return d;
}

}  // namespace runner

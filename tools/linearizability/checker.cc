// Linearizability checker: per-key decomposition (keys are independent
// registers, so a history is linearizable iff each key's sub-history is), then
// for each key Lowe's variant of the Wing-Gong search with Porcupine's
// memoisation of (linearized set, state). See search.h for the search itself.
#include "linearizability/checker.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "linearizability/search.h"

namespace lin {

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::kValid:
      return "valid";
    case Verdict::kInvalid:
      return "invalid";
    case Verdict::kUnknown:
      return "unknown";
  }
  return "?";
}

namespace {

using Clock = std::chrono::steady_clock;
using detail::kNoEvent;
using detail::Op;

// Identity of a key or value. dump_json() keeps 3 and "3" apart; integral floats are
// folded into integers because JSON has a single number type (1 == 1.0).
std::string canonical(const nlohmann::json& j) {
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 9e18)
      return std::to_string(static_cast<int64_t>(d));
  }
  return dump_json(j);
}

// One key's operations, ready for the search.
struct KeyOps {
  nlohmann::json key;
  size_t counted = 0;   // ops that were not fail
  std::vector<Op> ops;  // built unsorted, then optional ops first (see search.h)
  size_t optional = 0;  // how many of ops are optional
  std::unordered_map<std::string, int32_t> ids;  // interned values
  std::vector<std::string> names;                // id -> value as JSON text
  std::string malformed;                         // first structural problem, if any

  int32_t intern(const nlohmann::json& v) {
    auto [it, fresh] = ids.emplace(canonical(v), static_cast<int32_t>(names.size()));
    if (fresh) names.push_back(dump_json(v));
    return it->second;
  }
};

std::string event_ref(const std::vector<Event>& h, size_t i) {
  return "event " + std::to_string(i + 1) + " (process " + std::to_string(h[i].process) + " " +
         to_string(h[i].type) + " " + to_string(h[i].f) + ")";
}

// Turns one invoke (+ completion, or kNoEvent) into an op of `k`, or drops it.
void add_op(const std::vector<Event>& h, size_t inv, size_t comp, KeyOps* k) {
  const Event& e = h[inv];
  EventType outcome = comp == kNoEvent ? EventType::kInfo : h[comp].type;
  if (outcome == EventType::kFail) return;  // never happened, proves nothing
  ++k->counted;
  Op op;
  op.f = e.f;
  op.ok = outcome == EventType::kOk;
  op.invoke = inv;
  op.complete = comp;
  if (e.f == Fn::kRead) {
    if (!op.ok) return;  // unknown result constrains nothing
    const nlohmann::json& v = h[comp].value;
    op.a = v.is_null() ? detail::kAbsent : k->intern(v);
  } else if (e.f == Fn::kWrite) {
    op.a = k->intern(e.value);
  } else {
    if (!e.value.is_array() || e.value.size() != 2) {
      if (k->malformed.empty()) k->malformed = event_ref(h, inv) + ": cas value is not [from, to]";
      return;
    }
    op.a = k->intern(e.value[0]);
    op.b = k->intern(e.value[1]);
  }
  k->ops.push_back(op);
}

// Groups the history by key and pairs invokes with completions by process.
std::vector<KeyOps> split_by_key(const std::vector<Event>& h) {
  std::vector<KeyOps> keys;
  std::unordered_map<std::string, size_t> key_index;
  std::unordered_map<int64_t, size_t> outstanding;  // process -> its invoke
  // Only the first lookup per event can add a key, so references taken after
  // it stay valid for the rest of that iteration.
  auto key_of = [&](const nlohmann::json& key) -> KeyOps& {
    auto [it, fresh] = key_index.emplace(canonical(key), keys.size());
    if (fresh) keys.emplace_back().key = key;
    return keys[it->second];
  };
  for (size_t i = 0; i < h.size(); ++i) {
    const Event& e = h[i];
    KeyOps& k = key_of(e.key);
    auto it = outstanding.find(e.process);
    if (e.type == EventType::kInvoke) {
      if (it != outstanding.end()) {
        // Cannot tell which op a later completion belongs to: refuse to guess.
        KeyOps& prev = key_of(h[it->second].key);
        if (prev.malformed.empty())
          prev.malformed = event_ref(h, i) + ": process invokes again while its op from " +
                           event_ref(h, it->second) + " is outstanding";
        add_op(h, it->second, kNoEvent, &prev);
        it->second = i;
      } else {
        outstanding.emplace(e.process, i);
      }
      continue;
    }
    if (it == outstanding.end()) {
      if (k.malformed.empty())
        k.malformed = event_ref(h, i) + ": completion without an outstanding invoke";
      continue;
    }
    const Event& inv = h[it->second];
    KeyOps& ik = key_of(inv.key);
    if (inv.f != e.f || canonical(inv.key) != canonical(e.key)) {
      if (ik.malformed.empty())
        ik.malformed = event_ref(h, i) + ": completion does not match the f/key of its invoke " +
                       event_ref(h, it->second);
    } else {
      add_op(h, it->second, i, &ik);
    }
    outstanding.erase(it);
  }
  for (auto [process, inv] : outstanding) add_op(h, inv, kNoEvent, &key_of(h[inv].key));
  for (KeyOps& k : keys) {
    // Optional ops first, each group in invoke order (the layout search.h wants).
    std::sort(k.ops.begin(), k.ops.end(),
              [](const Op& a, const Op& b) { return a.ok != b.ok ? !a.ok : a.invoke < b.invoke; });
    k.optional = std::count_if(k.ops.begin(), k.ops.end(), [](const Op& o) { return !o.ok; });
  }
  return keys;
}

std::string describe(const std::vector<Event>& h, const Op& op) {
  const Event& inv = h[op.invoke];
  // Appends only: GCC 12 gives false -Wrestrict warnings for "literal" + string.
  std::string s = "p";
  s += std::to_string(inv.process);
  s += ' ';
  s += to_string(inv.f);
  if (inv.f != Fn::kRead) s.append(" ").append(dump_json(inv.value));
  s.append(" [").append(std::to_string(inv.time)).append(", ");
  s += op.ok ? std::to_string(h[op.complete].time) : "inf";
  s += "] -> ";
  if (!op.ok) return s + (op.complete == kNoEvent ? "no completion" : "info");
  return s + (inv.f == Fn::kRead ? dump_json(h[op.complete].value) : "ok");
}

// "t=1.234-1.240 s", relative to the first event of the history; sub-
// millisecond ops get microseconds ("t=0.622104-0.622311 s").
std::string interval_at(const std::vector<Event>& h, const Op& op) {
  char buf[64];
  double from = (h[op.invoke].time - h.front().time) / 1e9;
  double to = (h[op.complete].time - h.front().time) / 1e9;
  bool same_ms = std::llround(from * 1000) == std::llround(to * 1000);
  std::snprintf(buf, sizeof buf, same_ms ? "t=%.6f-%.6f s" : "t=%.3f-%.3f s", from, to);
  return buf;
}

std::string value_name(const KeyOps& k, int32_t v) {
  return v == detail::kAbsent ? "absent" : k.names[v];
}

// "1", "1 and 4", "1, 3 and 4".
std::string join_values(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += i + 1 == v.size() ? " and " : ", ";
    s += v[i];
  }
  return s;
}

// One sentence for a person: what the stuck op saw or required, and the only
// values the register could hold when it took effect (the prefix's state and
// whatever the ops concurrent with it wrote).
std::string why_sentence(const std::vector<Event>& h, const KeyOps& k,
                         const detail::SearchResult& r, size_t stuck,
                         const std::vector<size_t>& window, const std::vector<bool>& in_prefix) {
  const Op& b = k.ops[stuck];
  auto concurrent = [&](const Op& o) {
    return o.invoke < b.complete && (!o.ok || o.complete > b.invoke);
  };
  auto written = [](const Op& o) { return o.f == Fn::kWrite ? o.a : o.b; };
  // The register's value where the prefix first reaches an op concurrent with
  // b (a valid cut: the prefix is a legal order), then anything written after
  // that cut or by the concurrent ops left out of the prefix.
  int32_t before = detail::kAbsent;
  size_t cut = 0;
  for (; cut < r.prefix.size() && !concurrent(k.ops[r.prefix[cut]]); ++cut)
    if (k.ops[r.prefix[cut]].f != Fn::kRead) before = written(k.ops[r.prefix[cut]]);
  std::vector<int32_t> could{before};
  auto add = [&](int32_t v) {
    if (std::find(could.begin(), could.end(), v) == could.end()) could.push_back(v);
  };
  for (size_t p = cut; p < r.prefix.size(); ++p)
    if (k.ops[r.prefix[p]].f != Fn::kRead) add(written(k.ops[r.prefix[p]]));
  for (size_t i : window)
    if (i != stuck && !in_prefix[i] && k.ops[i].f != Fn::kRead && concurrent(k.ops[i]))
      add(written(k.ops[i]));
  std::vector<std::string> names;
  for (int32_t v : could) names.push_back(value_name(k, v));
  // Built by appends: GCC 12 warns falsely (-Wrestrict) on "literal" + string.
  std::string who = "process ";
  who.append(std::to_string(h[b.invoke].process)).append(" ");
  std::string when = interval_at(h, b);
  std::string held = "the register could only hold ";
  held.append(join_values(names))
      .append(" (its value before the ops concurrent with it, and what those wrote)");
  int32_t needed = b.a;
  bool explained = std::find(could.begin(), could.end(), needed) == could.end();
  std::string s = who;
  if (b.f == Fn::kRead) {
    s.append("read ").append(value_name(k, needed)).append(" at ").append(when).append(", but ");
    if (explained && could.size() <= 4) {
      if (before != detail::kAbsent)
        return s.append("the only writes that could precede it wrote ")
            .append(join_values(names))
            .append(".");
      if (could.size() == 1) return s.append("no write of the key could precede it.");
      names.erase(names.begin());
      return s
          .append(
              "the key was absent until then and the only writes that could precede it "
              "wrote ")
          .append(join_values(names))
          .append(".");
    }
  } else if (b.f == Fn::kCas) {
    s.append("cas ").append(value_name(k, b.a)).append("->").append(value_name(k, b.b));
    s.append(" succeeded at ").append(when).append(", but ");
  } else {
    return s.append("write ")
        .append(value_name(k, b.a))
        .append(" at ")
        .append(when)
        .append(
            " cannot be placed: every order of the ops before and beside it breaks an earlier read "
            "or cas.");
  }
  if (explained) return s.append(held).append(".");
  return s.append("no order of the ops concurrent with it leaves the register at ")
      .append(value_name(k, needed))
      .append(" at that moment while keeping every earlier read and cas true.");
}

// Explains a violation from the deepest partial linearization the search
// reached: the first acknowledged op that could not follow it, and every op
// concurrent with that one (the only ops whose order could have been changed).
void explain(const std::vector<Event>& h, const KeyOps& k, const detail::SearchResult& r,
             KeyReport* report) {
  std::vector<bool> in_prefix(k.ops.size());
  for (int32_t i : r.prefix) in_prefix[i] = true;
  size_t stuck = kNoEvent;  // op index
  for (size_t i = k.optional; i < k.ops.size(); ++i)
    if (!in_prefix[i] && (stuck == kNoEvent || k.ops[i].complete < k.ops[stuck].complete))
      stuck = i;
  if (stuck == kNoEvent) return;  // cannot happen for an invalid key
  const Op& b = k.ops[stuck];
  int32_t setter = -1;  // last write/cas of the prefix: where the state came from
  for (int32_t i : r.prefix)
    if (k.ops[i].f != Fn::kRead) setter = i;

  std::vector<size_t> window;
  for (size_t i = 0; i < k.ops.size(); ++i) {
    const Op& o = k.ops[i];
    bool concurrent = o.invoke < b.complete && (!o.ok || o.complete > b.invoke);
    if (i == stuck || concurrent || static_cast<int32_t>(i) == setter) window.push_back(i);
  }
  std::sort(window.begin(), window.end(),
            [&](size_t x, size_t y) { return k.ops[x].invoke < k.ops[y].invoke; });

  std::string state = r.state == detail::kAbsent ? "absent" : k.names[r.state];
  std::string& s = report->explanation;
  s = "key " + dump_json(k.key) + ": cannot linearize " + describe(h, b) + "\n";
  s += "  after the longest linearizable prefix found (" + std::to_string(r.prefix.size()) +
       " ops), the register is " + state;
  if (setter >= 0) s += ", set by " + describe(h, k.ops[setter]);
  s += "\n  window: that op, every op concurrent with it, and the setter (* = in the prefix):\n";
  std::vector<size_t> events;
  for (size_t i : window) {
    s += std::string("  ") + (in_prefix[i] ? "* " : "  ") + describe(h, k.ops[i]) + "\n";
    events.push_back(k.ops[i].invoke);
    if (k.ops[i].complete != kNoEvent) events.push_back(k.ops[i].complete);
  }
  s.pop_back();  // no trailing newline, like the other explanations
  std::sort(events.begin(), events.end());
  for (size_t e : events) report->window.push_back(h[e]);

  for (int32_t i : r.prefix) report->prefix.push_back(k.ops[i].invoke);
  report->stuck = b.invoke;
  for (size_t i : window) report->window_ops.push_back(k.ops[i].invoke);
  report->why = why_sentence(h, k, r, stuck, window, in_prefix);
}

KeyReport check_key(const std::vector<Event>& h, const KeyOps& k, Clock::time_point deadline) {
  KeyReport report;
  report.key = k.key;
  report.ops = k.counted;
  if (!k.malformed.empty()) {
    report.explanation = "key " + dump_json(k.key) + ": malformed history: " + k.malformed;
    return report;
  }
  detail::SearchResult r;
  try {
    r = detail::search(k.ops, k.optional, deadline);
  } catch (const std::bad_alloc&) {
    report.explanation = "key " + dump_json(k.key) + ": out of memory during the search";
    return report;
  }
  report.verdict = r.verdict;
  if (r.verdict == Verdict::kInvalid) explain(h, k, r, &report);
  if (r.verdict == Verdict::kUnknown)
    report.explanation = "key " + dump_json(k.key) + ": time budget exhausted after " +
                         std::to_string(r.steps) + " search steps";
  return report;
}

}  // namespace

CheckReport check(const std::vector<Event>& history, const CheckOptions& options) {
  auto start = Clock::now();
  auto deadline = start + options.budget;
  std::vector<KeyOps> keys = split_by_key(history);

  CheckReport report;
  report.keys.resize(keys.size());
  // Keys are independent: a small pool of workers takes them in turn.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < keys.size();)
      report.keys[i] = check_key(history, keys[i], deadline);
  };
  size_t workers = std::min<size_t>(keys.size(), std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::thread> pool;
  for (size_t i = 1; i < workers; ++i) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();

  report.verdict = Verdict::kValid;
  for (const KeyReport& k : report.keys) {
    if (k.verdict == Verdict::kInvalid) report.verdict = Verdict::kInvalid;
    if (k.verdict == Verdict::kUnknown && report.verdict == Verdict::kValid)
      report.verdict = Verdict::kUnknown;
  }
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace lin

// Differential test: the search against a brute-force enumeration of every
// order (and every subset of optional ops) on many small random histories.
#include <gtest/gtest.h>

#include <optional>
#include <random>

#include "linearizability/checker.h"

namespace {

using lin::Event;
using lin::EventType;
using lin::Fn;
using nlohmann::json;

struct BruteOp {
  Fn f;
  json value;               // write value, cas [from, to], or the value read (null = absent)
  size_t invoke, complete;  // complete = SIZE_MAX when optional
};

// State: nullopt = absent. Returns false if `op` cannot happen in `s`.
bool brute_step(const BruteOp& op, std::optional<json>* s) {
  if (op.f == Fn::kRead) return op.value.is_null() ? !s->has_value() : (*s && **s == op.value);
  if (op.f == Fn::kWrite) return *s = op.value, true;
  if (!*s || **s != op.value[0]) return false;
  return *s = op.value[1], true;
}

bool brute(const std::vector<BruteOp>& ops, std::vector<bool>& done, std::optional<json> s) {
  bool all_acked = true;
  for (size_t i = 0; i < ops.size(); ++i)
    if (!done[i] && ops[i].complete != SIZE_MAX) all_acked = false;
  if (all_acked) return true;  // the remaining optional ops never happen
  for (size_t i = 0; i < ops.size(); ++i) {
    if (done[i]) continue;
    bool minimal = true;  // nothing left completed before i was invoked
    for (size_t j = 0; j < ops.size(); ++j)
      if (!done[j] && ops[j].complete < ops[i].invoke) minimal = false;
    std::optional<json> next = s;
    if (!minimal || !brute_step(ops[i], &next)) continue;
    done[i] = true;
    bool ok = brute(ops, done, next);
    done[i] = false;
    if (ok) return true;
  }
  return false;
}

// Random single-register history from a real register, then maybe corrupted.
// Reads are corrupted with probability `corrupt`.
std::vector<Event> random_history(std::mt19937& rng, int max_procs, int max_ops, double corrupt,
                                  std::vector<BruteOp>* ops) {
  auto coin = [&](double p) { return std::bernoulli_distribution(p)(rng); };
  auto value = [&] { return json(std::uniform_int_distribution<int>(0, 2)(rng)); };
  std::optional<json> reg;
  int procs = std::uniform_int_distribution<int>(1, max_procs)(rng);
  std::vector<int> left(procs);
  for (int& l : left) l = std::uniform_int_distribution<int>(1, max_ops)(rng);
  struct Open {
    bool active = false, applied = false, effect_ok = false;
    Fn f;
    json value, result;
    size_t invoke;
  };
  std::vector<Open> open(procs);
  std::vector<Event> h;
  auto effect = [&](Open& o) {  // the op takes effect now
    o.applied = true;
    BruteOp b{o.f, o.value, 0, 0};
    if (o.f == Fn::kRead)
      o.result = reg ? *reg : json(), o.effect_ok = true;
    else
      o.effect_ok = brute_step(b, &reg);
  };
  while (true) {
    std::vector<int> ready;
    for (int p = 0; p < procs; ++p)
      if (open[p].active || left[p] > 0) ready.push_back(p);
    if (ready.empty()) break;
    int p = ready[std::uniform_int_distribution<size_t>(0, ready.size() - 1)(rng)];
    Open& o = open[p];
    int64_t t = static_cast<int64_t>(h.size());
    if (!o.active) {
      --left[p];
      o = Open{true, false, false,   Fn(std::uniform_int_distribution<int>(0, 2)(rng)),
               {},   {},    h.size()};
      if (o.f == Fn::kWrite) o.value = value();
      if (o.f == Fn::kCas) o.value = {value(), value()};
      h.push_back(Event{p, EventType::kInvoke, o.f, nullptr, o.value, t});
      if (coin(0.4)) effect(o);
      continue;
    }
    o.active = false;
    if (left[p] == 0 && coin(0.15)) {  // never completes; may have happened
      if (!o.applied && o.f != Fn::kRead && coin(0.5)) effect(o);
      continue;
    }
    bool info = coin(0.15), fail = !info && !o.applied && coin(0.1);
    if (!fail && !info && !o.applied) effect(o);
    if (info && !o.applied && coin(0.5)) effect(o);
    if (o.applied && !o.effect_ok) fail = true, info = false;  // cas mismatch
    EventType type = fail ? EventType::kFail : info ? EventType::kInfo : EventType::kOk;
    json v = o.f == Fn::kRead ? (type == EventType::kOk ? o.result : json()) : o.value;
    if (type == EventType::kOk && o.f == Fn::kRead && coin(corrupt))
      v = coin(0.3) ? json() : value();
    h.push_back(Event{p, type, o.f, nullptr, v, t});
    if (type == EventType::kOk)
      ops->push_back({o.f, v, o.invoke, h.size() - 1});
    else if (type == EventType::kInfo && o.f != Fn::kRead)
      ops->push_back({o.f, o.value, o.invoke, SIZE_MAX});
  }
  for (int p = 0; p < procs; ++p)  // the ones that never completed
    for (size_t i = h.size(); i-- > 0;)
      if (h[i].process == p) {
        if (h[i].type == EventType::kInvoke && h[i].f != Fn::kRead)
          ops->push_back({h[i].f, h[i].value, i, SIZE_MAX});
        break;
      }
  return h;
}

TEST(CheckerRandom, AgreesWithBruteForce) {
  std::mt19937 rng(12345);
  int counts[2] = {0, 0};
  for (int iter = 0; iter < 4000; ++iter) {
    std::vector<BruteOp> ops;
    std::vector<Event> h = random_history(rng, 4, 3, 0.2, &ops);
    std::vector<bool> done(ops.size());
    bool want = brute(ops, done, std::nullopt);
    lin::CheckReport r = lin::check(h);
    ++counts[want];
    std::string text;
    for (const Event& e : h) text += lin::to_jsonl(e) + "\n";
    ASSERT_EQ(r.verdict, want ? lin::Verdict::kValid : lin::Verdict::kInvalid) << text;
  }
  std::printf("%d linearizable, %d not\n", counts[1], counts[0]);
  // Both verdicts must be well represented for the comparison to mean much.
  EXPECT_GT(counts[0], 400);
  EXPECT_GT(counts[1], 400);
}

// Long histories (multi-word memo keys): a real register's history is valid;
// one read of a value nobody wrote makes it invalid.
TEST(CheckerRandom, LongHistories) {
  std::mt19937 rng(777);
  for (int iter = 0; iter < 40; ++iter) {
    std::vector<BruteOp> ops;
    std::vector<Event> h = random_history(rng, 5, 80, 0, &ops);
    ASSERT_EQ(lin::check(h).verdict, lin::Verdict::kValid) << iter;
    std::vector<size_t> reads;
    for (size_t i = 0; i < h.size(); ++i)
      if (h[i].type == EventType::kOk && h[i].f == Fn::kRead) reads.push_back(i);
    if (reads.empty()) continue;
    h[reads[std::uniform_int_distribution<size_t>(0, reads.size() - 1)(rng)]].value = 99;
    lin::CheckReport r = lin::check(h);
    ASSERT_EQ(r.verdict, lin::Verdict::kInvalid) << iter;
    EXPECT_NE(r.keys[0].explanation.find("-> 99"), std::string::npos) << r.keys[0].explanation;
  }
}

}  // namespace

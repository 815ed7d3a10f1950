// Model edge cases of the cas-register checker, on hand-built histories.
#include "linearizability/checker.h"

#include <gtest/gtest.h>

namespace {

using lin::Event;
using lin::EventType;
using lin::Fn;
using lin::Verdict;
using nlohmann::json;

// Builds a history in real-time order; each event is 1 ms after the last.
struct Hist {
  std::vector<Event> events;
  Hist& add(int64_t p, EventType t, Fn f, json value, json key) {
    events.push_back(Event{p, t, f, std::move(key), std::move(value),
                           1'000'000 * static_cast<int64_t>(events.size() + 1)});
    return *this;
  }
  Hist& invoke(int64_t p, Fn f, json v = nullptr, json key = nullptr) {
    return add(p, EventType::kInvoke, f, v, key);
  }
  Hist& ok(int64_t p, Fn f, json v = nullptr, json key = nullptr) {
    return add(p, EventType::kOk, f, v, key);
  }
  Hist& fail(int64_t p, Fn f, json v = nullptr, json key = nullptr) {
    return add(p, EventType::kFail, f, v, key);
  }
  Hist& info(int64_t p, Fn f, json v = nullptr, json key = nullptr) {
    return add(p, EventType::kInfo, f, v, key);
  }
  // Sequential (non-overlapping) operations.
  Hist& write(int64_t p, json v, json key = nullptr) {
    return invoke(p, Fn::kWrite, v, key).ok(p, Fn::kWrite, v, key);
  }
  Hist& read(int64_t p, json v, json key = nullptr) {
    return invoke(p, Fn::kRead, nullptr, key).ok(p, Fn::kRead, v, key);
  }
  Hist& cas(int64_t p, json from, json to, json key = nullptr) {
    return invoke(p, Fn::kCas, {from, to}, key).ok(p, Fn::kCas, {from, to}, key);
  }
  Verdict verdict(lin::CheckOptions o = {}) const { return lin::check(events, o).verdict; }
};

TEST(Checker, EmptyHistoryIsValid) {
  EXPECT_EQ(Hist().verdict(), Verdict::kValid);
}

TEST(Checker, ReadOfAbsentKeyIsNull) {
  EXPECT_EQ(Hist().read(1, nullptr).verdict(), Verdict::kValid);
  EXPECT_EQ(Hist().read(1, 0).verdict(), Verdict::kInvalid);  // the register does not start at 0
}

TEST(Checker, NullReadAfterWriteIsInvalid) {
  EXPECT_EQ(Hist().write(1, 5).read(2, nullptr).verdict(), Verdict::kInvalid);
}

TEST(Checker, WrittenNullIsNotAbsent) {
  // A null written as a value makes the key present; only absence reads as null.
  EXPECT_EQ(Hist().write(1, nullptr).read(2, nullptr).verdict(), Verdict::kInvalid);
  EXPECT_EQ(Hist().write(1, nullptr).cas(1, nullptr, 2).read(2, 2).verdict(), Verdict::kValid);
}

TEST(Checker, StaleReadIsInvalid) {
  EXPECT_EQ(Hist().write(1, 1).write(1, 2).read(2, 2).verdict(), Verdict::kValid);
  EXPECT_EQ(Hist().write(1, 1).write(1, 2).read(2, 1).verdict(), Verdict::kInvalid);
}

TEST(Checker, ConcurrentWriteAndReadAllowBothOrders) {
  for (json seen : {json(nullptr), json(7)}) {
    Hist h;
    h.invoke(1, Fn::kWrite, 7).invoke(2, Fn::kRead).ok(2, Fn::kRead, seen).ok(1, Fn::kWrite, 7);
    EXPECT_EQ(h.verdict(), Verdict::kValid) << seen;
  }
  // But a value never written cannot be read.
  Hist h;
  h.invoke(1, Fn::kWrite, 7).invoke(2, Fn::kRead).ok(2, Fn::kRead, 8).ok(1, Fn::kWrite, 7);
  EXPECT_EQ(h.verdict(), Verdict::kInvalid);
}

TEST(Checker, CasOnAbsentKeyCannotSucceed) {
  EXPECT_EQ(Hist().cas(1, 0, 1).verdict(), Verdict::kInvalid);
  EXPECT_EQ(Hist().cas(1, nullptr, 1).verdict(), Verdict::kInvalid);
  EXPECT_EQ(Hist().write(1, 0).cas(1, 0, 1).read(2, 1).verdict(), Verdict::kValid);
  EXPECT_EQ(Hist().write(1, 0).cas(1, 2, 1).verdict(), Verdict::kInvalid);
}

TEST(Checker, FailedOpsConstrainNothing) {
  // A failed cas whose from matched is fine: fails may be timeouts, not mismatches.
  Hist h;
  h.write(1, 1).invoke(2, Fn::kCas, {1, 2}).fail(2, Fn::kCas, {1, 2}).read(3, 1);
  EXPECT_EQ(h.verdict(), Verdict::kValid);
  // A failed write never took effect, so reading its value is a violation.
  Hist w;
  w.write(1, 1).invoke(2, Fn::kWrite, 2).fail(2, Fn::kWrite, 2).read(3, 2);
  EXPECT_EQ(w.verdict(), Verdict::kInvalid);
}

TEST(Checker, InfoWriteMayTakeEffectAfterItsCompletion) {
  Hist h;
  h.invoke(1, Fn::kWrite, 3).info(1, Fn::kWrite, 3).read(2, nullptr).read(2, 3);
  EXPECT_EQ(h.verdict(), Verdict::kValid);
  // Once seen it cannot be undone.
  h.read(2, nullptr);
  EXPECT_EQ(h.verdict(), Verdict::kInvalid);
  // An invoke that never completes behaves the same.
  Hist p;
  p.invoke(1, Fn::kWrite, 3).read(2, nullptr).read(2, 3);
  EXPECT_EQ(p.verdict(), Verdict::kValid);
}

TEST(Checker, InfoOpsMayNeverTakeEffect) {
  Hist h;
  h.write(1, 1).invoke(2, Fn::kCas, {5, 6}).info(2, Fn::kCas, {5, 6}).invoke(3, Fn::kWrite, 9);
  h.read(4, 1);
  EXPECT_EQ(h.verdict(), Verdict::kValid);
}

TEST(Checker, InfoWriteReadBeforeItsInvokeIsInvalid) {
  Hist h;
  h.read(2, 3).invoke(1, Fn::kWrite, 3).info(1, Fn::kWrite, 3);
  EXPECT_EQ(h.verdict(), Verdict::kInvalid);
}

TEST(Checker, InfoReadsConstrainNothing) {
  Hist h;
  h.write(1, 1).invoke(2, Fn::kRead).info(2, Fn::kRead).read(3, 1);
  EXPECT_EQ(h.verdict(), Verdict::kValid);
}

TEST(Checker, LostAcknowledgedWriteIsInvalid) {
  // The final reads after healing see the write before an acknowledged one.
  Hist h;
  h.write(1, 1).invoke(2, Fn::kWrite, 2).invoke(3, Fn::kCas, {2, 4}).info(3, Fn::kCas, {2, 4});
  h.ok(2, Fn::kWrite, 2).read(5, 2).read(6, 1);
  lin::CheckReport r = lin::check(h.events);
  ASSERT_EQ(r.verdict, Verdict::kInvalid);
  ASSERT_EQ(r.keys.size(), 1u);
  const lin::KeyReport& k = r.keys[0];
  EXPECT_NE(k.explanation.find("cannot linearize p6 read"), std::string::npos) << k.explanation;
  EXPECT_NE(k.explanation.find("p2 write 2"), std::string::npos) << k.explanation;
  EXPECT_FALSE(k.window.empty());
}

TEST(Checker, KeysAreIndependent) {
  Hist h;
  h.write(1, 1, "a").write(2, 1, "b").read(3, 1, "a").write(1, 2, "a").read(4, 1, "b");
  h.read(3, 2, "a").read(4, 7, "b");
  lin::CheckReport r = lin::check(h.events);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  ASSERT_EQ(r.keys.size(), 2u);
  EXPECT_EQ(r.keys[0].key, "a");
  EXPECT_EQ(r.keys[0].verdict, Verdict::kValid);
  EXPECT_EQ(r.keys[0].ops, 4u);
  EXPECT_EQ(r.keys[1].key, "b");
  EXPECT_EQ(r.keys[1].verdict, Verdict::kInvalid);
  EXPECT_NE(r.keys[1].explanation.find("key \"b\""), std::string::npos) << r.keys[1].explanation;
  for (const Event& e : r.keys[1].window) EXPECT_EQ(e.key, "b");
}

TEST(Checker, IntegerAndStringKeysDiffer) {
  Hist h;
  h.write(1, 1, 3).read(2, nullptr, "3").read(2, 1, 3);
  lin::CheckReport r = lin::check(h.events);
  EXPECT_EQ(r.verdict, Verdict::kValid);
  EXPECT_EQ(r.keys.size(), 2u);
  EXPECT_EQ(Hist().write(1, 1, 3).read(2, 1, "3").verdict(), Verdict::kInvalid);
}

TEST(Checker, MalformedHistoryIsUnknown) {
  Hist h;
  h.write(1, 1).ok(2, Fn::kRead, 1);  // completion without an invoke
  lin::CheckReport r = lin::check(h.events);
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_NE(r.keys[0].explanation.find("malformed"), std::string::npos);
  // A second invoke before the first completed: which one does "ok" finish?
  Hist twice;
  twice.invoke(1, Fn::kWrite, 1).invoke(1, Fn::kWrite, 2).ok(1, Fn::kWrite, 2);
  EXPECT_EQ(twice.verdict(), Verdict::kUnknown);
}

// Concurrent cas ops between every pair of `values` values that may or may not
// have happened, then a read of a value none of them wrote: refuting it means
// trying every chain of those cas ops.
Hist hard_history(int values) {
  Hist h;
  h.write(0, 0);
  int p = 1;
  for (int a = 0; a < values; ++a)
    for (int b = 0; b < values; ++b)
      if (a != b) h.invoke(p++, Fn::kCas, {a, b});
  h.read(p, -1);
  return h;
}

TEST(Checker, ExhaustedBudgetIsUnknownNeverValid) {
  Hist h = hard_history(8);
  EXPECT_EQ(h.verdict({.budget = std::chrono::milliseconds(0)}), Verdict::kUnknown);
  lin::CheckReport r = lin::check(h.events, {.budget = std::chrono::milliseconds(50)});
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_LT(r.seconds, 1.0);
  EXPECT_NE(r.keys[0].explanation.find("budget"), std::string::npos);
  // Small enough to finish: the same shape is refuted.
  EXPECT_EQ(hard_history(3).verdict(), Verdict::kInvalid);
}

TEST(Checker, LongSequentialHistoryIsFast) {
  Hist h;
  for (int i = 0; i < 20000; ++i) h.write(i % 5, i).read(5 + i % 5, i);
  lin::CheckReport r = lin::check(h.events);
  EXPECT_EQ(r.verdict, Verdict::kValid);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LT(r.seconds, 2.0);  // memo keys stay short: no quadratic blow-up
#endif
}

}  // namespace

// Unit tests of the runner's parts that need no processes: CLI parsing,
// nemesis target selection, the lin-kv generator and reply classification.
#include <gtest/gtest.h>

#include <set>

#include "cli.h"
#include "client.h"
#include "generator.h"
#include "nemesis.h"
#include "stats.h"

namespace runner {
namespace {

std::vector<std::string> base_args() {
  return {"--bin", "/bin/true"};
}

TEST(Cli, DefaultsMatchMaelstrom) {
  std::string err;
  auto o = parse_test_args(base_args(), &err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->nodes, (std::vector<std::string>{"n1", "n2", "n3", "n4", "n5"}));
  EXPECT_EQ(o->concurrency, 10);
  EXPECT_EQ(o->time_limit_s, 60);
  EXPECT_EQ(o->rate, 5);
  EXPECT_EQ(o->latency_ms, 0);
  EXPECT_EQ(o->nemesis_interval_s, 10);
  EXPECT_TRUE(o->nemesis.empty());
  EXPECT_EQ(o->store, "store");
}

TEST(Cli, NodeCountNamesFromZero) {
  std::string err;
  auto args = base_args();
  args.insert(args.end(), {"--node-count", "3", "--concurrency", "4n", "--", "--data-dir", "."});
  auto o = parse_test_args(args, &err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->nodes, (std::vector<std::string>{"n0", "n1", "n2"}));
  EXPECT_EQ(o->concurrency, 12);
  EXPECT_EQ(o->args, (std::vector<std::string>{"--data-dir", "."}));
}

TEST(Cli, ConcurrencyMustBeMultipleOfTwiceNodes) {
  std::string err;
  auto args = base_args();
  args.insert(args.end(), {"--node-count", "3", "--concurrency", "9"});
  EXPECT_FALSE(parse_test_args(args, &err));
  EXPECT_NE(err.find("multiple of 2 x node count (6)"), std::string::npos) << err;
  args.back() = "1n";
  EXPECT_FALSE(parse_test_args(args, &err));
  args.back() = "12";
  EXPECT_TRUE(parse_test_args(args, &err)) << err;
}

TEST(Cli, RejectsBadValues) {
  std::string err;
  for (auto bad : std::vector<std::vector<std::string>>{{"--rate", "-1"},
                                                        {"--nemesis", "partition,flood"},
                                                        {"--latency-dist", "normal"},
                                                        {"--time-limit", "0"},
                                                        {"--availability", "1.5"},
                                                        {"--mix", "read=1,delete=2"},
                                                        {"--frobnicate"},
                                                        {"--seed"}}) {
    auto args = base_args();
    args.insert(args.end(), bad.begin(), bad.end());
    EXPECT_FALSE(parse_test_args(args, &err)) << bad[0];
    EXPECT_FALSE(err.empty());
  }
  EXPECT_FALSE(parse_test_args({}, &err));
  EXPECT_NE(err.find("--bin"), std::string::npos);
}

TEST(Cli, AcceptsEqualsFormAndRateZero) {
  std::string err;
  auto args = base_args();
  args.insert(args.end(),
              {"--rate=0", "--nemesis=partition,kill,pause", "--availability", "total"});
  auto o = parse_test_args(args, &err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->rate, 0);
  EXPECT_EQ(o->nemesis.size(), 3u);
  EXPECT_EQ(*o->availability, 1.0);
}

size_t component_of(const Grudge& g, const std::string& n, const std::vector<std::string>& nodes) {
  // Nodes n hears from, including itself.
  size_t heard = 0;
  for (auto& m : nodes) heard += !(g.count(n) && g.at(n).count(m));
  return heard;
}

TEST(Nemesis, PartitionShapes) {
  std::vector<std::string> nodes{"n1", "n2", "n3", "n4", "n5"};
  std::mt19937_64 rng(7);
  auto one = partition_grudge("one", nodes, rng);
  std::multiset<size_t> sizes;
  for (auto& n : nodes) sizes.insert(component_of(one, n, nodes));
  EXPECT_EQ(sizes, (std::multiset<size_t>{1, 4, 4, 4, 4}));

  auto maj = partition_grudge("majority", nodes, rng);
  sizes.clear();
  for (auto& n : nodes) sizes.insert(component_of(maj, n, nodes));
  EXPECT_EQ(sizes, (std::multiset<size_t>{2, 2, 3, 3, 3}));

  auto third = partition_grudge("minority-third", nodes, rng);
  sizes.clear();
  for (auto& n : nodes) sizes.insert(component_of(third, n, nodes));
  EXPECT_EQ(sizes, (std::multiset<size_t>{1, 4, 4, 4, 4}));

  auto ring = partition_grudge("majorities-ring", nodes, rng);
  for (auto& n : nodes) EXPECT_EQ(component_of(ring, n, nodes), 3u) << n;
  // Symmetric, and no two nodes see the same majority.
  std::set<std::set<std::string>> views;
  for (auto& a : nodes) {
    std::set<std::string> view;
    for (auto& b : nodes) {
      bool ab = ring.count(a) && ring.at(a).count(b);
      bool ba = ring.count(b) && ring.at(b).count(a);
      EXPECT_EQ(ab, ba);
      if (!ab) view.insert(b);
    }
    views.insert(view);
  }
  EXPECT_EQ(views.size(), 5u);
}

TEST(Nemesis, NodeTargets) {
  std::vector<std::string> nodes{"n1", "n2", "n3", "n4", "n5"};
  std::mt19937_64 rng(3);
  EXPECT_EQ(node_targets("one", nodes, rng).size(), 1u);
  EXPECT_EQ(node_targets("minority", nodes, rng).size(), 2u);
  EXPECT_EQ(node_targets("majority", nodes, rng).size(), 3u);
  EXPECT_EQ(node_targets("all", nodes, rng).size(), 5u);
}

TEST(Generator, ReadersReadAndWritersWriteOrCas) {
  std::mt19937_64 rng(1);
  LinKvGenerator gen({4, 2, 20, std::nullopt, {}}, rng);
  int writes = 0, cas = 0;
  for (int i = 0; i < 300; ++i) {
    int worker = i % 4;
    OpSpec op = gen.next(worker, worker);
    EXPECT_EQ(op.key, 0);
    if (worker < 2) {
      EXPECT_EQ(op.f, lin::Fn::kRead);
    } else {
      EXPECT_NE(op.f, lin::Fn::kRead);
      writes += op.f == lin::Fn::kWrite;
      cas += op.f == lin::Fn::kCas;
      if (op.f == lin::Fn::kCas) {
        ASSERT_TRUE(op.value.is_array());
        EXPECT_LE(op.value[0].get<int>(), 4);
      }
    }
  }
  // write:cas is 1:2.
  EXPECT_GT(cas, writes);
  EXPECT_GT(writes, 20);
}

TEST(Generator, KeyRetiresAfterProcessLimit) {
  std::mt19937_64 rng(1);
  LinKvGenerator gen({4, 1, 3, std::nullopt, {}}, rng);  // two groups of 2
  EXPECT_EQ(gen.group_key(0), 0);
  EXPECT_EQ(gen.group_key(1), 1);
  EXPECT_EQ(gen.next(0, 0).key, 0);
  EXPECT_EQ(gen.next(2, 2).key, 1);
  EXPECT_EQ(gen.next(1, 1).key, 0);
  EXPECT_EQ(gen.next(1, 5).key, 0);  // third process on key 0
  EXPECT_EQ(gen.next(0, 0).key, 0);  // a known process may go on
  EXPECT_EQ(gen.next(0, 9).key, 2);  // a fourth retires key 0; the group moves on
  EXPECT_EQ(gen.group_key(1), 1);
}

TEST(Generator, PerKeyLimitCapsOps) {
  std::mt19937_64 rng(1);
  LinKvGenerator gen({2, 1, 20, 10, {}}, rng);
  std::set<int64_t> keys;
  for (int i = 0; i < 100; ++i) keys.insert(gen.next(i % 2, i % 2).key.get<int64_t>());
  EXPECT_GE(keys.size(), 10u);
  EXPECT_LE(keys.size(), 12u);
}

TEST(Generator, MixOverridesRoles) {
  std::mt19937_64 rng(1);
  LinKvGenerator gen({2, 1, 20, std::nullopt, {{"write", 1}}}, rng);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(gen.next(i % 2, i % 2).f, lin::Fn::kWrite);
}

Message reply(raftkv::maelstrom::Json body) {
  return Message{"n1", "c0", std::move(body)};
}

raftkv::maelstrom::Json error_body(int code) {
  return {{"type", "error"}, {"in_reply_to", 1}, {"code", code}, {"text", "x"}};
}

TEST(Classify, MatchesMaelstromClient) {
  OpSpec read{lin::Fn::kRead, 1, nullptr};
  OpSpec write{lin::Fn::kWrite, 1, 3};
  OpSpec cas{lin::Fn::kCas, 1, {1, 2}};
  auto ok = classify(read, reply({{"type", "read_ok"}, {"in_reply_to", 1}, {"value", 4}}));
  EXPECT_EQ(ok.type, lin::EventType::kOk);
  EXPECT_EQ(ok.value, 4);
  EXPECT_EQ(classify(write, reply({{"type", "write_ok"}})).type, lin::EventType::kOk);
  for (int code : {1, 10, 11, 12, 14, 20, 21, 22, 30}) {
    EXPECT_EQ(classify(write, reply(error_body(code))).type, lin::EventType::kFail) << code;
    EXPECT_EQ(classify(cas, reply(error_body(code))).type, lin::EventType::kFail) << code;
  }
  for (int code : {0, 13, 1000, 42}) {
    EXPECT_EQ(classify(write, reply(error_body(code))).type, lin::EventType::kInfo) << code;
    EXPECT_EQ(classify(read, reply(error_body(code))).type, lin::EventType::kFail) << code;
  }
  EXPECT_EQ(classify(cas, std::nullopt).type, lin::EventType::kInfo);
  EXPECT_EQ(classify(read, std::nullopt).type, lin::EventType::kFail);
  // Our deliberate difference: key-does-not-exist is an ok read of null.
  auto absent = classify(read, reply(error_body(20)));
  EXPECT_EQ(absent.type, lin::EventType::kOk);
  EXPECT_TRUE(absent.value.is_null());
  // A reply of the wrong type is uncertain.
  EXPECT_EQ(classify(write, reply({{"type", "read_ok"}})).type, lin::EventType::kInfo);
}

TEST(Stats, Quantiles) {
  std::vector<double> v{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  EXPECT_EQ(quantile(v, 0.5), 5);
  EXPECT_EQ(quantile(v, 0.95), 10);
  EXPECT_EQ(quantile(v, 0), 1);
  EXPECT_EQ(quantile({}, 0.5), 0);
}

}  // namespace
}  // namespace runner

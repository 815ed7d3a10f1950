// Unit tests of the runner's parts that need no processes: CLI parsing,
// nemesis target selection, the lin-kv generator and reply classification.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>

#include "cli.h"
#include "client.h"
#include "clock.h"
#include "event_loop.h"
#include "generator.h"
#include "history_log.h"
#include "metrics.h"
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

TEST(Cli, ThroughputOptions) {
  std::string err;
  auto args = base_args();
  args.insert(args.end(),
              {"--keys", "1000", "--warmup", "2.5", "--cpu-pids", "123,456", "--mix", "write=1"});
  auto o = parse_test_args(args, &err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(*o->key_count, 1000);
  EXPECT_EQ(o->warmup_s, 2.5);
  EXPECT_EQ(o->cpu_pids, (std::vector<int>{123, 456}));
  auto defaults = parse_test_args(base_args(), &err);
  EXPECT_FALSE(defaults->key_count);  // Jepsen's key per group unless asked
  EXPECT_EQ(defaults->warmup_s, 1);
  for (auto bad : std::vector<std::vector<std::string>>{
           {"--keys", "0"}, {"--key-count", "x"}, {"--warmup", "-1"}, {"--cpu-pids", "1"}}) {
    auto a = base_args();
    a.insert(a.end(), bad.begin(), bad.end());
    EXPECT_FALSE(parse_test_args(a, &err)) << bad[0] << " " << bad[1];
  }
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

// --nemesis power: every cut node is SIGKILLed through power_cut (not kill)
// and restarted at stop or heal; events are recorded as start/stop-power.
TEST(Nemesis, PowerCutsAndRestarts) {
  struct Fake : ClusterControl {
    std::vector<std::string> ids{"n1", "n2", "n3", "n4", "n5"};
    std::map<std::string, int> cuts, kills, restarts;
    std::set<std::string> down;
    const std::vector<std::string>& node_ids() const override { return ids; }
    void kill(const std::string& n) override { ++kills[n], down.insert(n); }
    void restart(const std::string& n) override { ++restarts[n], down.erase(n); }
    void pause(const std::string&) override {}
    void resume(const std::string&) override {}
    void partition(const Grudge&) override {}
    void heal_partition() override {}
    void power_cut(const std::string& n, uint64_t) override { ++cuts[n], down.insert(n); }
  } cluster;
  std::string err;
  auto args = base_args();
  args.insert(args.end(), {"--nemesis", "kill,power"});
  auto o = parse_test_args(args, &err);
  ASSERT_TRUE(o) << err;
  EXPECT_EQ(o->nemesis, (std::set<std::string>{"kill", "power"}));

  char tmpl[] = "/tmp/runner-nemesis-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  EventLoop loop;
  std::mt19937_64 rng(7);
  HistoryLog history(mono_ns(), dir);
  Nemesis nemesis(loop, rng, cluster, history, {"power"}, 0.002);
  int64_t end = mono_ns() + 300'000'000;
  nemesis.start(end);
  loop.run_until([&] { return mono_ns() >= end; });
  nemesis.heal_all();
  EXPECT_FALSE(nemesis.any_active());
  int total_cuts = 0;
  for (auto& [n, k] : cluster.cuts) total_cuts += k;
  EXPECT_GT(total_cuts, 5);
  EXPECT_TRUE(cluster.kills.empty());
  EXPECT_EQ(cluster.cuts, cluster.restarts);
  EXPECT_TRUE(cluster.down.empty());
  int starts = 0, stops = 0;
  for (const auto& e : history.nemesis_events()) {
    starts += e.f == "start-power";
    stops += e.f == "stop-power";
  }
  EXPECT_GT(starts, 0);
  EXPECT_EQ(starts, stops);
  std::filesystem::remove_all(dir);
}

TEST(Generator, ReadersReadAndWritersWriteOrCas) {
  std::mt19937_64 rng(1);
  LinKvGenerator gen({4, 2, 20, std::nullopt, {}, std::nullopt}, rng);
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
  LinKvGenerator gen({4, 1, 3, std::nullopt, {}, std::nullopt}, rng);  // two groups of 2
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
  LinKvGenerator gen({2, 1, 20, 10, {}, std::nullopt}, rng);
  std::set<int64_t> keys;
  for (int i = 0; i < 100; ++i) keys.insert(gen.next(i % 2, i % 2).key.get<int64_t>());
  EXPECT_GE(keys.size(), 10u);
  EXPECT_LE(keys.size(), 12u);
}

TEST(Generator, MixOverridesRoles) {
  std::mt19937_64 rng(1);
  LinKvGenerator gen({2, 1, 20, std::nullopt, {{"write", 1}}, std::nullopt}, rng);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(gen.next(i % 2, i % 2).f, lin::Fn::kWrite);
}

TEST(Generator, KeysSpreadWritesUniformly) {
  std::mt19937_64 rng(1);
  LinKvGenerator gen({12, 3, 20, std::nullopt, {{"write", 1}}, 10}, rng);
  std::map<int64_t, int> per_key;
  for (int i = 0; i < 10000; ++i) {
    OpSpec op = gen.next(i % 12, i % 12);
    EXPECT_EQ(op.f, lin::Fn::kWrite);
    ++per_key[op.key.get<int64_t>()];
  }
  ASSERT_EQ(per_key.size(), 10u);
  EXPECT_EQ(per_key.begin()->first, 0);
  EXPECT_EQ(per_key.rbegin()->first, 9);
  for (auto& [k, n] : per_key) EXPECT_NEAR(n, 1000, 150) << k;
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

OpRecord ok_op(lin::Fn f, double invoke_s, double complete_s) {
  return {0,
          f,
          "n0",
          static_cast<int64_t>(invoke_s * 1e9),
          static_cast<int64_t>(complete_s * 1e9),
          lin::EventType::kOk};
}

TEST(Stats, SteadyWindowAndByF) {
  std::vector<OpRecord> ops{ok_op(lin::Fn::kWrite, 0.1, 0.5),  // warm-up: excluded
                            ok_op(lin::Fn::kWrite, 1.0, 1.002), ok_op(lin::Fn::kRead, 2.0, 2.004),
                            ok_op(lin::Fn::kWrite, 3.0, 3.006)};
  ops.push_back({1, lin::Fn::kWrite, "n0", 1'500'000'000, 1'600'000'000, lin::EventType::kFail});
  RunStats s = compute_stats(ops, NetStats{}, 4, 1, 3.5);
  EXPECT_EQ(s.ok, 4);
  EXPECT_EQ(s.throughput_ok, 1.0);
  EXPECT_EQ(s.throughput_ok_by_f["write"], 0.75);
  EXPECT_EQ(s.latency_by_f["write"].n, 3);
  ASSERT_TRUE(s.steady);
  EXPECT_EQ(s.steady->ok, 3);
  EXPECT_EQ(s.steady->fail, 1);
  EXPECT_DOUBLE_EQ(s.steady->ok_per_s, 3 / 2.5);
  EXPECT_DOUBLE_EQ(s.steady->ok_per_s_by_f["read"], 1 / 2.5);
  EXPECT_NEAR(s.steady->latency.max, 6, 1e-6);
  EXPECT_NEAR(s.steady->latency_by_f["write"].p50, 2, 1e-6);
  EXPECT_FALSE(compute_stats(ops, NetStats{}, 4, 4, 4).steady);  // empty window
}

TEST(Metrics, ParsesStatsLines) {
  auto f = parse_stats_line(
      "raftkv stats: role=leader term=2 commit=123 applied=123 last=123 syncs=45 "
      "synced_entries=678 pending=3");
  ASSERT_TRUE(f);
  EXPECT_EQ((*f)["role"], "leader");
  EXPECT_EQ((*f)["synced_entries"], "678");
  EXPECT_EQ(f->size(), 8u);
  EXPECT_FALSE(parse_stats_line("raftkv: became leader in term 2"));
  EXPECT_FALSE(parse_stats_line("raftkv stats: not initialised"));
}

StatsSample sample(double t_s, int gen, int syncs, int entries, const char* role = "leader") {
  return {static_cast<int64_t>(t_s * 1e9),
          gen,
          {{"role", role},
           {"syncs", std::to_string(syncs)},
           {"synced_entries", std::to_string(entries)}}};
}

TEST(Metrics, SummarizesCountersOverWindowAcrossRestarts) {
  // 100 syncs/s at 10 entries each, a restart (counters from 0) at 3.5 s.
  std::vector<StatsSample> v{
      sample(0, 1, 0, 0, "candidate"), sample(1, 1, 100, 1000), sample(2, 1, 200, 2000),
      sample(3, 1, 300, 3000),         sample(4, 2, 0, 0),      sample(5, 2, 100, 1000)};
  auto s = summarize_stats(v, 1'000'000'000, 5'000'000'000);
  EXPECT_TRUE(s.windowed);
  EXPECT_DOUBLE_EQ(s.span_s, 3);  // 1..3 and 4..5
  EXPECT_DOUBLE_EQ(s.fsyncs_per_s(), 100);
  EXPECT_DOUBLE_EQ(s.entries_per_fsync(), 10);
  EXPECT_EQ(s.total_syncs, 400);
  EXPECT_EQ(s.role, "leader");
  EXPECT_EQ(s.leader_samples, 5);
  // A window with one line falls back to the whole run.
  auto whole = summarize_stats(v, 1'500'000'000, 2'500'000'000);
  EXPECT_FALSE(whole.windowed);
  EXPECT_DOUBLE_EQ(whole.span_s, 4);
  EXPECT_EQ(summarize_stats({}, 0, 1).samples, 0);
}

TEST(Metrics, CpuSecondsOfProcesses) {
  volatile double x = 0;
  while (self_cpu_seconds() < 0.05) x = x + 1;
  auto mine = proc_cpu_seconds(getpid());
  ASSERT_TRUE(mine);
  EXPECT_GE(*mine, 0.03);  // /proc counts in clock ticks
  EXPECT_FALSE(proc_cpu_seconds(999999999));
}

}  // namespace
}  // namespace runner

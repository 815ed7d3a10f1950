// End-to-end tests: run the maelstrom-runner binary against fixture nodes and
// check its verdict (exit status) and its outputs. Broken nodes must be
// caught; the correct fixture must pass.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runner_process.h"

namespace {

namespace fs = std::filesystem;

struct RunnerRun {
  int status = -1;
  std::string output;  // stdout + stderr
  fs::path store;
};

// Runs the runner with args in a fresh directory per call, under one folder
// per test that is wiped when the test starts.
RunnerRun run_runner(std::vector<std::string> args) {
  static std::string current_test;
  static int calls = 0;
  RunnerRun r;
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  std::string test = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : test)
    if (c == '/') c = '_';
  fs::path base = fs::path(SCRATCH_DIR) / test;
  if (test != current_test) {
    current_test = test;
    calls = 0;
    fs::remove_all(base);
  }
  r.store = base / ("call-" + std::to_string(++calls));
  fs::create_directories(r.store);
  fs::path out = r.store / "runner-output.txt";
  if (!args.empty() && args[0] == "test") {
    auto sep = std::find(args.begin(), args.end(), "--");
    args.insert(sep, {"--store", (r.store / "store").string()});
  }
  runner_test::ProcessResult p = runner_test::run_runner_process(std::move(args), out);
  r.status = p.status;
  r.output = std::move(p.output);
  return r;
}

std::string fixture(const std::string& name) {
  return std::string(FIXTURE_DIR) + "/fixture-" + name;
}

nlohmann::json results(const RunnerRun& r) {
  std::ifstream in(r.store / "store" / "latest" / "results.json");
  return nlohmann::json::parse(in);
}

TEST(Runner, CorrectNodeIsValidUnderPartitionsAndPauses) {
  RunnerRun r = run_runner({"test",
                            "-w",
                            "lin-kv",
                            "--bin",
                            fixture("memory-kv"),
                            "--node-count",
                            "3",
                            "--concurrency",
                            "2n",
                            "--time-limit",
                            "6",
                            "--rate",
                            "100",
                            "--latency",
                            "5",
                            "--latency-dist",
                            "uniform",
                            "--nemesis",
                            "partition,pause",
                            "--nemesis-interval",
                            "1",
                            "--seed",
                            "42"});
  EXPECT_EQ(r.status, 0) << r.output;
  fs::path run = r.store / "store" / "latest";
  ASSERT_TRUE(fs::exists(run / "results.json")) << r.output;
  EXPECT_TRUE(fs::exists(r.store / "store" / "lin-kv" / "latest"));
  for (auto n : {"n0", "n1", "n2"}) {
    EXPECT_TRUE(fs::exists(run / "node-logs" / (std::string(n) + ".log"))) << n;
    EXPECT_TRUE(fs::is_directory(run / "nodes" / n)) << n;
  }
  auto j = results(r);
  EXPECT_EQ(j["valid?"], true);
  EXPECT_GT(j["stats"]["ok"].get<int>(), 100);
  EXPECT_GT(j["net"]["server-msgs"].get<int>(), 0);
  EXPECT_GT(j["final-reads"]["ok"].get<int>(), 0);
  EXPECT_FALSE(j["nemesis"].empty());
  if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
    for (auto png : {"latency-raw.png", "latency-quantiles.png", "rate.png"})
      EXPECT_TRUE(fs::exists(run / png)) << png;
  }
  // The history it wrote is checkable on its own, with the same verdict.
  RunnerRun c = run_runner({"check", (run / "history.jsonl").string()});
  EXPECT_EQ(c.status, 0) << c.output;
}

TEST(Runner, ClosedLoopSingleNodeIsValid) {
  RunnerRun r =
      run_runner({"test", "--no-plots", "--bin", fixture("memory-kv"), "--node-count", "1",
                  "--time-limit", "2", "--rate", "0", "--concurrency", "4n", "--seed", "1"});
  EXPECT_EQ(r.status, 0) << r.output;
  // Closed loop on a local node runs far beyond the default rate of 5/s.
  EXPECT_GT(results(r)["stats"]["ok"].get<int>(), 1000) << r.output;
}

TEST(Runner, ThroughputRunReportsSteadyWindowCpuAndNodeStats) {
  // Write-only over 40 keys, closed loop; memory-kv's first node prints
  // raftkv-style stats lines claiming 4 entries per sync. The runner's own
  // pid stands in for an external process (etcd) whose CPU is reported.
  RunnerRun r = run_runner({"test",
                            "--no-plots",
                            "--bin",
                            fixture("memory-kv"),
                            "--node-count",
                            "3",
                            "--concurrency",
                            "2n",
                            "--rate",
                            "0",
                            "--mix",
                            "write=1",
                            "--keys",
                            "40",
                            "--time-limit",
                            "3",
                            "--warmup",
                            "1",
                            "--cpu-pids",
                            std::to_string(getpid()),
                            "--seed",
                            "9",
                            "--",
                            "--stats-every",
                            "50"});
  ASSERT_EQ(r.status, 0) << r.output;
  auto j = results(r);
  EXPECT_EQ(j["stats"]["by-f"].size(), 1u);  // writes only
  EXPECT_EQ(j["linearizability"]["key-count"], 40);
  EXPECT_GT(j["throughput"]["ok-per-s-by-f"]["write"].get<double>(), 100);
  EXPECT_GT(j["latency-ms"]["by-f"]["write"]["n"].get<int>(), 100);
  auto& steady = j["steady"];
  EXPECT_EQ(steady["window-s"], nlohmann::json::parse("[1.0, 3.0]"));
  EXPECT_GT(steady["ok-per-s"].get<double>(), 100);
  EXPECT_LE(steady["ok"].get<int>(), j["stats"]["ok"].get<int>());
  EXPECT_GT(steady["latency-ms"]["p99"].get<double>(), 0);
  auto& cpu = j["cpu"];
  EXPECT_GT(cpu["nodes-total"]["run-s"].get<double>(), 0);
  EXPECT_GE(cpu["nodes-total"]["run-s"].get<double>(),
            cpu["nodes-total"]["steady-s"].get<double>());
  EXPECT_GT(cpu["runner"]["run-s"].get<double>(), 0);
  EXPECT_EQ(cpu["nodes"]["n0"]["starts"], 1);
  EXPECT_GT(cpu["us-per-ok-op"]["nodes-steady"].get<double>(), 0);
  EXPECT_TRUE(cpu["external"][std::to_string(getpid())]["steady-s"].is_number());
  auto& ns = j["node-stats"];
  ASSERT_TRUE(ns.is_object()) << j.dump(2);
  EXPECT_EQ(ns["leader"]["node"], "n0");
  EXPECT_NEAR(ns["leader"]["entries-per-fsync"].get<double>(), 4, 0.01);  // syncs = ops / 4
  EXPECT_GT(ns["cluster"]["fsyncs-per-s"].get<double>(), 0);
  EXPECT_FALSE(ns["nodes"].contains("n1"));  // printed no stats lines
  EXPECT_NE(r.output.find("steady 1.0-3.0 s:"), std::string::npos) << r.output;

  // Without stats lines, node-stats is left out.
  RunnerRun plain =
      run_runner({"test", "--no-plots", "--bin", fixture("memory-kv"), "--node-count", "1",
                  "--rate", "0", "--mix", "write=1", "--keys", "5", "--time-limit", "1"});
  ASSERT_EQ(plain.status, 0) << plain.output;
  EXPECT_FALSE(results(plain).contains("node-stats"));
}

TEST(Runner, NodesWithoutReplicationAreInvalid) {
  RunnerRun r =
      run_runner({"test", "--no-plots", "-w", "lin-kv", "--bin", fixture("broken-local"),
                  "--node-count", "3", "--time-limit", "5", "--rate", "50", "--seed", "7"});
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("is not linearizable"), std::string::npos) << r.output;
  EXPECT_EQ(results(r)["valid?"], false);
}

TEST(Runner, EarlyAcknowledgedWritesAreInvalid) {
  RunnerRun r =
      run_runner({"test", "--no-plots", "-w", "lin-kv", "--bin", fixture("broken-early-ack"),
                  "--node-count", "3", "--time-limit", "5", "--rate", "100", "--latency", "10",
                  "--latency-dist", "exponential", "--seed", "7"});
  EXPECT_EQ(r.status, 1) << r.output;
}

TEST(Runner, NodeThatForgetsOnRestartIsInvalid) {
  // memory-kv keeps its data in memory only: correct until it is killed.
  // Short-lived keys leave many keys whose every write predates some kill,
  // so the final reads find them gone whatever the timing.
  RunnerRun r = run_runner({"test",
                            "--no-plots",
                            "-w",
                            "lin-kv",
                            "--bin",
                            fixture("memory-kv"),
                            "--node-count",
                            "1",
                            "--time-limit",
                            "6",
                            "--rate",
                            "50",
                            "--nemesis",
                            "kill",
                            "--nemesis-interval",
                            "1",
                            "--per-key-limit",
                            "10",
                            "--seed",
                            "3"});
  EXPECT_EQ(r.status, 1) << r.output;
  auto j = results(r);
  bool killed = false;
  for (auto& e : j["nemesis"]) killed |= e["f"] == "start-kill";
  EXPECT_TRUE(killed);
}

TEST(Runner, AvailabilityThresholdFailsTheRun) {
  // Partitions cut n1/n2 off from n0, so proxied requests time out: the
  // history stays linearizable, but demanding total availability fails it.
  RunnerRun r = run_runner({"test", "--no-plots", "--bin", fixture("memory-kv"), "--node-count",
                            "3", "--time-limit", "4", "--rate", "50", "--nemesis", "partition",
                            "--nemesis-interval", "0.5", "--availability", "total", "--seed", "5"});
  EXPECT_EQ(r.status, 1) << r.output;
  auto j = results(r);
  EXPECT_LT(j["availability"]["ok-fraction"].get<double>(), 1.0);
  EXPECT_EQ(j["availability"]["valid?"], false);
}

TEST(Runner, MalformedOutputIsReportedWithNodeAndLine) {
  RunnerRun r =
      run_runner({"test", "--no-plots", "--bin", fixture("memory-kv"), "--node-count", "1",
                  "--time-limit", "1", "--rate", "20", "--seed", "1", "--", "--garbage"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("n0 wrote a line that is not a valid message"), std::string::npos)
      << r.output;
  auto problem = results(r)["problems"]["malformed-message"];
  EXPECT_EQ(problem["count"], 1);
  EXPECT_NE(problem["examples"][0].get<std::string>().find("hello, not json"), std::string::npos);
}

TEST(Runner, NodeThatNeverAnswersInitIsAnError) {
  RunnerRun r = run_runner({"test", "--no-plots", "--bin", "/bin/sleep", "--node-count", "1",
                            "--time-limit", "1", "--", "30"});
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("did not answer init"), std::string::npos) << r.output;
}

TEST(RunnerCli, UsageErrorsExitTwo) {
  RunnerRun r = run_runner({"test", "--no-plots", "--bin", fixture("memory-kv"), "--node-count",
                            "3", "--concurrency", "4"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.output.find("multiple of 2 x node count"), std::string::npos) << r.output;
  EXPECT_EQ(run_runner({"test"}).status, 2);
  EXPECT_EQ(run_runner({"frobnicate"}).status, 2);
  EXPECT_EQ(run_runner({"check"}).status, 2);
  RunnerRun help = run_runner({"--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("--nemesis-interval"), std::string::npos);
}

class SharedHistory : public testing::TestWithParam<std::pair<const char*, int>> {};

TEST_P(SharedHistory, CheckAgreesWithKnownVerdict) {
  fs::path file = fs::path(SHARED_HISTORIES) / GetParam().first;
  if (!fs::exists(file)) GTEST_SKIP() << file << " not present";
  RunnerRun r = run_runner({"check", file.string()});
  EXPECT_EQ(r.status, GetParam().second) << r.output;
  if (GetParam().second == 1) {
    EXPECT_NE(r.output.find("not linearizable"), std::string::npos) << r.output;
  }
}

INSTANTIATE_TEST_SUITE_P(Files, SharedHistory,
                         testing::Values(std::pair{"porcupine-etcd_etcd_002.jsonl", 0},
                                         std::pair{"porcupine-etcd_etcd_000.jsonl", 1},
                                         std::pair{"knossos_cas-register-bug.jsonl", 0},
                                         std::pair{"knossos_bad-analysis.jsonl", 1},
                                         std::pair{"knossos_mongodb-v0-ack-rollback-7.jsonl", 0}),
                         [](const auto& info) {
                           std::string s = info.param.first;
                           s = s.substr(0, s.find('.'));
                           for (char& c : s)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return s;
                         });

}  // namespace

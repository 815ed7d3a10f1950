// The member nemesis end to end: the runner binary against the membership
// fixture (a planned schedule: removals, the leader's among them, wiped
// replacements re-added, a transfer) and against raftkv (random membership
// changes mixed with partitions and kills).
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
  std::string output;
  fs::path run_dir;  // store/latest
  nlohmann::json results;
  std::vector<nlohmann::json> nemesis;  // nemesis.jsonl
};

// Runs `maelstrom-runner test ARGS` with a fresh store per test.
RunnerRun run_runner(const std::string& name, std::vector<std::string> args) {
  RunnerRun r;
  fs::path base = fs::path(SCRATCH_DIR) / name;
  fs::remove_all(base);
  fs::create_directories(base);
  fs::path out = base / "runner-output.txt";
  args.insert(args.begin(), {"test", "--store", (base / "store").string()});
  runner_test::ProcessResult p = runner_test::run_runner_process(std::move(args), out);
  r.status = p.status;
  r.output = std::move(p.output);
  r.run_dir = base / "store" / "latest";
  std::ifstream res(r.run_dir / "results.json");
  if (res) r.results = nlohmann::json::parse(res, nullptr, false);
  std::ifstream nem(r.run_dir / "nemesis.jsonl");
  for (std::string line; std::getline(nem, line);)
    r.nemesis.push_back(nlohmann::json::parse(line, nullptr, false));
  return r;
}

std::vector<nlohmann::json> events(const RunnerRun& r, const std::string& f) {
  std::vector<nlohmann::json> out;
  for (const auto& e : r.nemesis)
    if (e.value("f", "") == f) out.push_back(e["value"]);
  return out;
}

TEST(MemberNemesis, PlannedChangesAgainstTheFixture) {
  // Starts with n1..n3; n4 and n5 join; then the leader (moved to n2) and
  // n3 leave and come back as wiped replacements. The fixture keeps its data
  // on n1, so n1 is never replaced.
  RunnerRun r = run_runner(
      "planned-fixture",
      {"-w", "lin-kv", "--bin", std::string(FIXTURE_DIR) + "/fixture-membership-kv", "--time-limit",
       "10", "--rate", "50", "--seed", "3", "--initial-members", "3", "--member-plan",
       "0.5:add:n4,0.5:add:n5,1:transfer:n2,2:remove:leader,2:remove:n3,3:add:n2,3:add:n3",
       "--no-plots"});
  ASSERT_EQ(r.status, 0) << r.output;
  const auto& m = r.results["membership"];
  ASSERT_TRUE(m.is_object()) << r.results.dump(2);
  EXPECT_EQ(m["removed"], 2);
  EXPECT_EQ(m["promoted"], 4);  // n4, n5, and n2, n3 again
  EXPECT_EQ(m["readded"], 2);
  EXPECT_EQ(m["replaced"], 2);
  EXPECT_EQ(m["transfers"], 1);
  EXPECT_EQ(m["final"]["voters"].size(), 5u);
  EXPECT_EQ(r.results["options"]["initial-members"], 3);

  // Every change is a start/stop pair with its outcome.
  auto starts = events(r, "start-member"), stops = events(r, "stop-member");
  EXPECT_EQ(starts.size(), stops.size());
  bool removed_leader = false;
  for (const auto& s : stops) {
    EXPECT_TRUE(s.contains("outcome"));
    if (s["op"] == "member_remove" && s["node"] == "n2") removed_leader = s["outcome"] == "ok";
  }
  EXPECT_TRUE(removed_leader);
  // A learner is promoted only once caught up; the fixture refuses earlier.
  auto caught = events(r, "member-caught-up");
  ASSERT_EQ(caught.size(), 4u);
  for (const auto& c : caught) EXPECT_TRUE(c["caught-up"].get<bool>()) << c.dump();
  // Replacements restart wiped, with --join.
  EXPECT_EQ(events(r, "member-replace").size(), 2u);
  std::ifstream log(r.run_dir / "node-logs" / "n3.log");
  std::string text((std::istreambuf_iterator<char>(log)), {});
  EXPECT_NE(text.find("restarted n3"), std::string::npos);

  // The longest write gap is reported, within the run.
  const auto& gap = r.results["availability-gap"]["run"];
  EXPECT_GT(gap["longest-ms"].get<double>(), 0);
  EXPECT_LE(gap["to-s"].get<double>(), 10.0 + 1e-9);
  EXPECT_NE(r.output.find("longest write gap"), std::string::npos);
  EXPECT_NE(r.output.find("membership: 2 removed"), std::string::npos) << r.output;
}

TEST(MemberNemesis, RaftkvStaysValidUnderMembershipPartitionsAndKills) {
  if (access(RAFTKV_BIN, X_OK) != 0) GTEST_SKIP() << RAFTKV_BIN << " not built";
  RunnerRun r = run_runner("raftkv-member-partition-kill", {"-w",
                                                            "lin-kv",
                                                            "--bin",
                                                            RAFTKV_BIN,
                                                            "--node-count",
                                                            "5",
                                                            "--time-limit",
                                                            "30",
                                                            "--rate",
                                                            "100",
                                                            "--seed",
                                                            "7",
                                                            "--nemesis",
                                                            "member,partition,kill",
                                                            "--nemesis-interval",
                                                            "2",
                                                            "--final-timeout",
                                                            "15",
                                                            "--no-plots",
                                                            "--",
                                                            "--data-dir",
                                                            "."});
  ASSERT_EQ(r.status, 0) << r.output;
  const auto& m = r.results["membership"];
  ASSERT_TRUE(m.is_object()) << r.output;
  EXPECT_GE(m["removed"].get<int>(), 1) << m.dump(2);
  EXPECT_GE(m["readded"].get<int>(), 1) << m.dump(2);
  EXPECT_GE(m["final"]["voters"].size(), 3u);
  EXPECT_EQ(r.results["final-reads"]["unread"], 0);
}

}  // namespace

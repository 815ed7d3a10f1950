// End-to-end: real raftkv processes wired through pipes. Replicated writes
// are readable everywhere, a killed leader is replaced, and no acknowledged
// write is lost, including on the killed node after it restarts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "process_cluster.h"

namespace raftkv::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ClusterTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("raftkv-cluster-" + std::to_string(getpid()) + "-" + std::to_string(GetParam()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  std::string wait_for_leader(ProcessCluster& c, std::chrono::seconds limit) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (auto l = c.leader()) return *l;
      c.pump(50ms);
    }
    return {};
  }

  // Writes until acknowledged, retrying only errors that say "not applied"
  // (11) or "unknown" (13; rewriting the same value is harmless).
  bool write(ProcessCluster& c, const std::string& node, int key, int value) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto r = c.request(node, {{"type", "write"}, {"key", key}, {"value", value}});
      if (r && (*r)["type"] == "write_ok") return true;
      c.pump(50ms);
    }
    return false;
  }

  fs::path dir_;
};

TEST_P(ClusterTest, ReplicatesSurvivesLeaderKillAndLosesNothing) {
  ProcessCluster c(RAFTKV_BINARY, GetParam(), dir_.string());
  for (const auto& id : c.ids()) c.start(id);
  std::string leader = wait_for_leader(c, 10s);
  ASSERT_FALSE(leader.empty()) << "no leader elected";

  // Writes through every node (followers forward to the leader).
  std::map<int, int> acked;
  for (int k = 0; k < 20; ++k) {
    const std::string& via = c.ids()[k % c.ids().size()];
    ASSERT_TRUE(write(c, via, k, k * 10)) << "write " << k << " via " << via;
    acked[k] = k * 10;
  }
  for (const auto& id : c.ids()) {
    for (auto [k, v] : acked) {
      auto r = c.request(id, {{"type", "read"}, {"key", k}});
      ASSERT_TRUE(r) << "no answer from " << id;
      EXPECT_EQ((*r)["value"], v) << "key " << k << " on " << id;
    }
  }

  c.kill(leader);
  std::string next = wait_for_leader(c, 10s);
  ASSERT_FALSE(next.empty()) << "no new leader after killing " << leader;
  EXPECT_NE(next, leader);

  for (int k = 20; k < 40; ++k) {
    std::string via = c.ids()[k % c.ids().size()];
    if (!c.alive(via)) via = next;
    ASSERT_TRUE(write(c, via, k, k * 10)) << "write " << k << " after failover";
    acked[k] = k * 10;
  }

  // The old leader comes back on its data dir and catches up.
  c.start(leader);
  c.pump(1500ms);
  for (const auto& id : c.ids()) {
    for (auto [k, v] : acked) {
      std::optional<Json> r;
      for (int attempt = 0; attempt < 20 && !(r && (*r)["type"] == "read_ok"); ++attempt) {
        r = c.request(id, {{"type", "read"}, {"key", k}});
        if (!(r && (*r)["type"] == "read_ok")) c.pump(100ms);
      }
      ASSERT_TRUE(r && (*r)["type"] == "read_ok") << "key " << k << " unreadable on " << id;
      EXPECT_EQ((*r)["value"], v) << "acknowledged write lost: key " << k << " on " << id;
    }
  }
}

// A follower that was down while the leader compacted its log catches up
// through InstallSnapshot, and then holds every acknowledged write: it is
// made necessary for a quorum by killing the other follower afterwards.
class SnapshotTest : public ClusterTest {};

TEST_P(SnapshotTest, LaggingFollowerCatchesUpThroughInstallSnapshot) {
  ProcessCluster c(
      RAFTKV_BINARY, 3, dir_.string(),
      {"--compact-threshold", "20", "--compact-max-lag", "10", "--snapshot-chunk-bytes", "200"});
  for (const auto& id : c.ids()) c.start(id);
  std::string leader = wait_for_leader(c, 10s);
  ASSERT_FALSE(leader.empty());
  std::string lagging, other;
  for (const auto& id : c.ids()) {
    if (id == leader) continue;
    (lagging.empty() ? lagging : other) = id;
  }
  c.kill(lagging);
  std::map<int, int> acked;
  for (int i = 0; i < 300; ++i) {
    ASSERT_TRUE(write(c, leader, i % 50, i)) << "write " << i;
    acked[i % 50] = i;
  }
  auto status = c.request(leader, {{"type", "status"}});
  ASSERT_TRUE(status);
  uint64_t leader_commit = (*status)["commit"].get<uint64_t>();

  c.start(lagging);
  bool caught_up = false;
  for (int attempt = 0; attempt < 100 && !caught_up; ++attempt) {
    c.pump(100ms);
    auto s = c.request(lagging, {{"type", "status"}}, 500ms);
    caught_up = s && (*s)["applied"].get<uint64_t>() >= leader_commit;
  }
  ASSERT_TRUE(caught_up) << lagging << " never caught up to " << leader_commit;
  std::ifstream log(dir_ / (lagging + ".log"));
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("installed snapshot"), std::string::npos)
      << "caught up without a snapshot: the leader's log was not compacted?\n"
      << text;

  // Now the rejoined node is needed for every quorum.
  c.kill(other);
  for (auto [k, v] : acked) {
    std::optional<Json> r;
    for (int attempt = 0; attempt < 30 && !(r && (*r)["type"] == "read_ok"); ++attempt) {
      r = c.request(lagging, {{"type", "read"}, {"key", k}});
      if (!(r && (*r)["type"] == "read_ok")) c.pump(100ms);
    }
    ASSERT_TRUE(r && (*r)["type"] == "read_ok") << "key " << k;
    EXPECT_EQ((*r)["value"], v) << "acknowledged write lost: key " << k;
  }
}

INSTANTIATE_TEST_SUITE_P(ThreeNodes, SnapshotTest, ::testing::Values(3),
                         [](const auto& info) { return std::to_string(info.param) + "nodes"; });

INSTANTIATE_TEST_SUITE_P(Sizes, ClusterTest, ::testing::Values(3, 5),
                         [](const auto& info) { return std::to_string(info.param) + "nodes"; });

}  // namespace
}  // namespace raftkv::test

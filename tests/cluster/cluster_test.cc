// End-to-end: real raftkv processes wired through pipes. Replicated writes
// are readable everywhere, a killed leader is replaced, and no acknowledged
// write is lost, including on the killed node after it restarts.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "process_cluster.h"

namespace raftkv::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class ClusterTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raftkv-cluster-" + std::to_string(getpid()) + "-" +
                                        std::to_string(GetParam()));
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

INSTANTIATE_TEST_SUITE_P(Sizes, ClusterTest, ::testing::Values(3, 5),
                         [](const auto& info) { return std::to_string(info.param) + "nodes"; });

}  // namespace
}  // namespace raftkv::test

// End-to-end membership changes in the Maelstrom mode: real raftkv processes
// on pipes grow from 3 to 5 voters (learners first), shrink back by removing
// the leader itself, re-add a wiped server, transfer leadership, and keep
// every acknowledged write, across a restart of the whole cluster too.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "process_cluster.h"

namespace raftkv::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class MembershipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("raftkv-membership-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // Asks `node` (following "the leader is X" hints) until `type`_ok or `limit`.
  std::optional<Json> admin(ProcessCluster& c, std::string node, Json body,
                            std::chrono::seconds limit = 10s) {
    std::string type = body["type"];
    auto end = Clock::now() + limit;
    while (Clock::now() < end) {
      auto r = c.request(node, body);
      if (r && (*r)["type"] == type + "_ok") return r;
      if (r) {
        last_error_ = r->value("text", "");
        if ((*r)["code"] == 22) return r;  // precondition failed: definite
        auto at = last_error_.find("the leader is ");
        if (at != std::string::npos) {
          node = last_error_.substr(at + 14);
        } else {
          node = c.ids()[next_++ % c.ids().size()];  // no hint: try the others in turn
        }
      }
      c.pump(100ms);
    }
    return std::nullopt;
  }
  // The leader `ask` knows of, other than `not_this` (a view can lag: right
  // after a leader removes itself, others may still name it for a moment).
  std::string leader(ProcessCluster& c, const std::string& ask, const std::string& not_this = "") {
    auto end = Clock::now() + 10s;
    while (Clock::now() < end) {
      auto r = c.request(ask, {{"type", "members"}});
      if (r) {
        std::string l = (*r)["leader"];
        if (!l.empty() && l != not_this) return l;
      }
      c.pump(50ms);
    }
    return {};
  }
  Json members(ProcessCluster& c, const std::string& node) {
    auto r = c.request(node, {{"type", "members"}});
    return r ? *r : Json();
  }
  bool write(ProcessCluster& c, const std::string& node, int key, int value) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto r = c.request(node, {{"type", "write"}, {"key", key}, {"value", value}});
      if (r && (*r)["type"] == "write_ok") return true;
      c.pump(50ms);
    }
    return false;
  }
  std::optional<int> read(ProcessCluster& c, const std::string& node, int key) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto r = c.request(node, {{"type", "read"}, {"key", key}});
      if (r && (*r)["type"] == "read_ok") return (*r)["value"].get<int>();
      c.pump(50ms);
    }
    return std::nullopt;
  }
  // Adds `id` as a learner, waits for it to catch up, promotes it.
  void add_voter(ProcessCluster& c, const std::string& via, const std::string& id) {
    ASSERT_TRUE(admin(c, via, {{"type", "member_add"}, {"node", id}, {"learner", true}}))
        << last_error_;
    ASSERT_TRUE(admin(c, via, {{"type", "member_promote"}, {"node", id}})) << last_error_;
  }

  fs::path dir_;
  std::string last_error_;
  size_t next_ = 0;
};

TEST_F(MembershipTest, GrowsShrinksReplacesAndTransfers) {
  ProcessCluster c(RAFTKV_BINARY, 5, dir_.string(), {"--election-timeout-ms", "300"});
  const auto& ids = c.ids();
  std::string initial = ids[0] + "," + ids[1] + "," + ids[2];
  for (int i = 0; i < 5; ++i) {
    c.set_node_args(ids[i], i < 3 ? std::vector<std::string>{"--initial-members", initial}
                                  : std::vector<std::string>{"--join"});
    c.start(ids[i]);
  }
  std::string l = leader(c, ids[0]);
  ASSERT_FALSE(l.empty());
  std::map<int, int> acked;
  for (int k = 0; k < 20; ++k) {
    ASSERT_TRUE(write(c, ids[k % 3], k, k * 10));
    acked[k] = k * 10;
  }
  // A joining server takes no part until it is added.
  auto refused = c.request(ids[3], {{"type", "write"}, {"key", 1}, {"value", 1}});
  ASSERT_TRUE(refused);
  EXPECT_EQ((*refused)["code"], 11);

  // 3 -> 5, learners first.
  add_voter(c, l, ids[3]);
  add_voter(c, l, ids[4]);
  Json m = members(c, ids[4]);
  EXPECT_EQ(m["voters"].size(), 5u) << m.dump();
  EXPECT_EQ(read(c, ids[4], 7), 70);  // the new server has the old data
  auto again = admin(c, l, {{"type", "member_add"}, {"node", ids[4]}});
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)["code"], 22);  // already a voter

  // 5 -> 3: the leader removes itself (and hands over), then one more.
  l = leader(c, ids[0]);
  std::string old_leader = l;
  ASSERT_TRUE(admin(c, l, {{"type", "member_remove"}, {"node", old_leader}})) << last_error_;
  std::string next = leader(c, ids[3] == old_leader ? ids[4] : ids[3], old_leader);
  ASSERT_FALSE(next.empty());
  EXPECT_NE(next, old_leader);
  auto removed = c.request(old_leader, {{"type", "write"}, {"key", 1}, {"value", 1}});
  ASSERT_TRUE(removed);
  EXPECT_EQ((*removed)["code"], 11) << removed->dump();
  std::string second;
  for (const auto& id : ids) {
    if (id != old_leader && id != next) second = id;
  }
  ASSERT_TRUE(admin(c, next, {{"type", "member_remove"}, {"node", second}})) << last_error_;
  m = members(c, next);
  EXPECT_EQ(m["voters"].size(), 3u) << m.dump();
  for (int k = 20; k < 30; ++k) {
    ASSERT_TRUE(write(c, next, k, k * 10));
    acked[k] = k * 10;
  }

  // A replacement machine: wiped, restarted with --join, added back.
  c.kill(second);
  c.wipe(second);
  c.set_node_args(second, {"--join"});
  c.start(second);
  add_voter(c, next, second);
  EXPECT_EQ(read(c, second, 25), 250);

  // Leadership transfer to a chosen voter.
  m = members(c, next);
  std::string target;
  for (const auto& v : m["voters"]) {
    if (v != next) target = v;
  }
  ASSERT_TRUE(admin(c, next, {{"type", "transfer_leader"}, {"node", target}})) << last_error_;
  EXPECT_EQ(leader(c, target), target);

  // The whole cluster restarts (kill -9): the configuration and data stay.
  for (const auto& id : ids) c.kill(id);
  for (const auto& id : ids) c.start(id);
  l = leader(c, target);
  ASSERT_FALSE(l.empty());
  m = members(c, l);
  EXPECT_EQ(m["voters"].size(), 4u) << m.dump();
  for (const auto& [k, v] : acked) EXPECT_EQ(read(c, l, k), v) << "key " << k;
}

}  // namespace
}  // namespace raftkv::test

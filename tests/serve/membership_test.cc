// Membership changes in serve mode, end to end: three founders that know
// nothing of n4 (it is not in their --peers), n4 started with --join, added
// as a learner, promoted, made leader, then removed while it leads.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "resp/encode.h"
#include "serve_cluster.h"

namespace raftkv::test {
namespace {

using Clock = std::chrono::steady_clock;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

std::string call(uint16_t port, const std::vector<std::string>& args) {
  RespClient c(port, Millis(10000));
  return show(c.call(args));
}

// Polls `check` every 50 ms until it holds or `timeout` passes.
template <typename Check>
bool eventually(Millis timeout, Check check) {
  auto deadline = Clock::now() + timeout;
  while (!check()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(Millis(50));
  }
  return true;
}

// RAFT.MEMBERS as "id ..." lines, by id.
std::map<std::string, std::string> members(uint16_t port) {
  RespClient c(port);
  resp::Reply r = c.call({"RAFT.MEMBERS"});
  std::map<std::string, std::string> out;
  for (const resp::Reply& line : r.elements) out[line.str.substr(0, line.str.find(' '))] = line.str;
  return out;
}

class ServeMembership : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.start("n1");
    cluster_.start("n2");
    cluster_.start("n3");
    auto leader = cluster_.wait_for_leader(Millis(10000));
    ASSERT_TRUE(leader) << cluster_.log_tail("n1");
    leader_ = *leader;
  }
  uint16_t port(const std::string& id) const { return cluster_.client_port(id); }
  std::string peer_address(const std::string& id) const {
    return fmt::format("127.0.0.1:{}", cluster_.peer_port(id));
  }
  std::string admin(const std::string& id, const std::vector<std::string>& args) {
    return show(call_until_settled(port(id), args));
  }
  // Writes k0..k(n-1) through the leader in one pipeline.
  void write_keys(int n) {
    RespClient c(port(leader_));
    std::string batch;
    for (int i = 0; i < n; ++i) resp::append_bulk_array(batch, {"SET", fmt::format("k{}", i), "v"});
    c.send_raw(batch);
    for (const resp::Reply& r : c.read_replies(static_cast<size_t>(n))) ASSERT_EQ(show(r), "OK");
  }

  ServeCluster cluster_{{.servers = 4, .metrics = true, .extra_args = {}, .joiners = 1}};
  std::string leader_;
};

TEST_F(ServeMembership, BadRequestsAreRefusedAndFollowersNameTheLeader) {
  std::string follower = cluster_.follower_of(leader_);
  std::string hint = call(port(follower), {"RAFT.MEMBER", "ADD", "n4", peer_address("n4")});
  EXPECT_TRUE(starts_with(hint, "(error) TRYAGAIN not the leader; the leader is " + leader_))
      << hint;
  EXPECT_NE(hint.find("peer address " + peer_address(leader_)), std::string::npos) << hint;

  uint16_t p = port(leader_);
  EXPECT_EQ(call(p, {"RAFT.MEMBER", "PROMOTE", "n9"}), "(error) ERR n9 is not a member");
  EXPECT_EQ(call(p, {"RAFT.MEMBER", "REMOVE", "n9"}), "(error) ERR n9 is not a member");
  EXPECT_EQ(call(p, {"RAFT.MEMBER", "PROMOTE", follower}),
            "(error) ERR " + follower + " is already a voter");
  EXPECT_EQ(call(p, {"RAFT.MEMBER", "ADD", follower, peer_address(follower)}),
            "(error) ERR " + follower + " is already a voter");
  EXPECT_EQ(call(p, {"RAFT.TRANSFER", "n9"}), "(error) ERR n9 is not a voter");
  std::string bad = call(p, {"RAFT.MEMBER", "ADD", "n4", "example.org:7004"});
  EXPECT_TRUE(starts_with(bad, "(error) ERR invalid peer address")) << bad;
  // Transferring to itself is done already.
  EXPECT_EQ(call(p, {"RAFT.TRANSFER", leader_}), "OK");

  std::map<std::string, std::string> m = members(port(follower));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[leader_], leader_ + " " + peer_address(leader_) + " voter leader");
  EXPECT_EQ(m[follower], follower + " " + peer_address(follower) + " voter");
  std::string seen_by_leader = members(port(leader_))[follower];
  EXPECT_NE(seen_by_leader.find(" voter lag "), std::string::npos) << seen_by_leader;
}

TEST_F(ServeMembership, JoinPromoteTransferAndRemoveTheLeader) {
  write_keys(200);
  cluster_.start("n4");
  EXPECT_TRUE(
      starts_with(call(port("n4"), {"GET", "k0"}), "(error) TRYAGAIN this server is not a member"));
  EXPECT_EQ(cluster_.info("n4")["raft_member"], "no");

  // n4 is in no founder's --peers: they reach it through the configuration.
  EXPECT_EQ(admin(leader_, {"RAFT.MEMBER", "ADD", "n4", peer_address("n4"), "LEARNER"}), "OK");
  EXPECT_EQ(call(port(leader_), {"RAFT.MEMBER", "ADD", "n4", peer_address("n4")}),
            "(error) ERR n4 is already a learner");
  uint64_t written = std::stoull(cluster_.info(leader_)["commit_index"]);
  ASSERT_TRUE(eventually(Millis(5000), [&] {
    auto info = cluster_.info("n4");
    return info["raft_member"] == "yes" && std::stoull("0" + info["applied_index"]) >= written;
  })) << cluster_.log_tail("n4");
  EXPECT_EQ(cluster_.info("n4")["learners"], "1");
  EXPECT_EQ(show(call_until_settled(port("n4"), {"GET", "k199"})), "\"v\"");
  EXPECT_EQ(show(call_until_settled(port("n4"), {"SET", "via-n4", "1"})), "OK");
  EXPECT_NE(members(port(leader_))["n4"].find("n4 " + peer_address("n4") + " learner"),
            std::string::npos);

  EXPECT_EQ(admin(leader_, {"RAFT.MEMBER", "PROMOTE", "n4"}), "OK");
  EXPECT_EQ(call(port(leader_), {"RAFT.MEMBER", "PROMOTE", "n4"}),
            "(error) ERR n4 is already a voter");
  std::string metrics;  // n4 sees the promotion once the entry reaches it
  EXPECT_TRUE(eventually(Millis(3000), [&] {
    metrics = http_get(cluster_.metrics_port("n4"), "/metrics");
    return metrics.find("\nraftkv_voters 4") != std::string::npos;
  })) << metrics;
  EXPECT_NE(metrics.find("\nraftkv_is_member 1"), std::string::npos);

  // A founder restarted with its old --peers finds n4 in the configuration.
  std::string founder = leader_ == "n1" ? "n2" : "n1";
  cluster_.kill9(founder);
  EXPECT_EQ(admin(leader_, {"SET", "while-down", "1"}), "OK");
  cluster_.start(founder);
  EXPECT_TRUE(eventually(Millis(5000), [&] {
    metrics = http_get(cluster_.metrics_port(founder), "/metrics");
    return metrics.find("raftkv_peer_connected{peer=\"n4\"} 1") != std::string::npos;
  })) << metrics;

  EXPECT_EQ(admin(leader_, {"RAFT.TRANSFER", "n4"}), "OK");
  EXPECT_EQ(cluster_.info("n4")["role"], "leader");

  // Remove the leader: it hands over once the removal commits.
  auto removed_at = Clock::now();
  EXPECT_EQ(admin("n4", {"RAFT.MEMBER", "REMOVE", "n4"}), "OK");
  EXPECT_EQ(show(call_until_settled(port("n1"), {"SET", "after", "1"})), "OK");
  auto took = std::chrono::duration_cast<Millis>(Clock::now() - removed_at);
  EXPECT_LT(took.count(), 2 * 2 * 500) << "no leader serving writes within 2 election timeouts";
  std::cerr << "remove the leader -> write through n1 acknowledged in " << took.count() << " ms\n";

  ASSERT_TRUE(eventually(Millis(5000), [&] { return cluster_.info("n4")["raft_member"] == "no"; }));
  EXPECT_TRUE(
      starts_with(call(port("n4"), {"GET", "k0"}), "(error) TRYAGAIN this server is not a member"));
  EXPECT_TRUE(starts_with(call(port("n4"), {"RAFT.TRANSFER", "n1"}),
                          "(error) TRYAGAIN this server is not a member"));
  EXPECT_NE(cluster_.log_tail("n4", 100000).find("removed from the cluster"), std::string::npos);
  metrics = http_get(cluster_.metrics_port("n4"), "/metrics");
  EXPECT_NE(metrics.find("\nraftkv_is_member 0"), std::string::npos);

  auto leader = cluster_.wait_for_leader(Millis(5000));
  ASSERT_TRUE(leader);
  EXPECT_NE(*leader, "n4");
  EXPECT_EQ(members(port(*leader)).size(), 3u);
  EXPECT_EQ(cluster_.info(*leader)["voters"], "3");
  founder = *leader == "n1" ? "n2" : "n1";
  EXPECT_EQ(show(call_until_settled(port(founder), {"GET", "via-n4"})), "\"1\"");
  EXPECT_EQ(show(call_until_settled(port(founder), {"GET", "k0"})), "\"v\"");
  EXPECT_EQ(show(call_until_settled(port(founder), {"GET", "while-down"})), "\"1\"");
  // n4 is in no founder's --peers: once its removal commits, they forget it.
  for (const char* id : {"n1", "n2", "n3"}) {
    EXPECT_TRUE(eventually(Millis(3000), [&] {
      return cluster_.log_tail(id, 1 << 20).find("no longer talking to n4") != std::string::npos;
    })) << cluster_.log_tail(id);
  }
}

}  // namespace
}  // namespace raftkv::test

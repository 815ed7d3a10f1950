// SIGTERM with requests in flight: a prompt, clean exit (code 0) after
// answering what it can, and nothing acknowledged is lost across a restart.
#include <gtest/gtest.h>

#include "resp/encode.h"
#include "serve_cluster.h"

namespace raftkv::test {
namespace {

constexpr int kDrainMs = 1000;
constexpr int kSlackMs = 4000;  // a loaded 2-core machine

// Pipelines `n` SETs of unique keys through each connection, SIGTERMs
// `victim` at once, and returns the keys acknowledged OK.
std::vector<std::string> sigterm_under_load(ServeCluster& cluster, const std::string& victim,
                                            const std::string& via, int n) {
  std::vector<RespClient> conns;
  for (int c = 0; c < 4; ++c) conns.push_back(cluster.client(via));
  for (int c = 0; c < 4; ++c) {
    std::string batch;
    for (int i = 0; i < n; ++i) {
      std::string key = "d" + std::to_string(c) + "-" + std::to_string(i);
      resp::append_bulk_array(batch, {"SET", key, "v" + key});
    }
    conns[c].send_raw(batch);
  }
  Millis took{};
  std::optional<int> code = cluster.terminate(victim, Millis(kDrainMs + kSlackMs), &took);
  EXPECT_EQ(code, std::optional<int>(0)) << cluster.log_tail(victim);
  EXPECT_LE(took.count(), kDrainMs + kSlackMs);
  std::cout << "SIGTERM of " << victim << " (via " << via << "): exited in " << took.count()
            << " ms\n";

  std::vector<std::string> acked;
  size_t answered = 0;
  for (int c = 0; c < 4; ++c) {
    conns[c].set_timeout(Millis(3000));
    for (int i = 0; i < n; ++i) {
      auto r = conns[c].read_reply();
      if (!r) break;  // the server closed: the rest was never read
      ++answered;
      std::string key = "d" + std::to_string(c) + "-" + std::to_string(i);
      if (show(*r) == "OK") {
        acked.push_back(key);
      } else {
        EXPECT_TRUE(r->is_error()) << key << ": " << show(*r);
      }
    }
  }
  std::cout << answered << " of " << 4 * n << " answered, " << acked.size() << " OK\n";
  return acked;
}

void expect_present(uint16_t port, const std::vector<std::string>& keys) {
  RespClient c(port, Millis(20000));
  std::string batch;
  for (const auto& key : keys) resp::append_bulk_array(batch, {"GET", key});
  c.send_raw(batch);
  std::vector<resp::Reply> replies = c.read_replies(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    ASSERT_EQ(show(replies[i]), "\"v" + keys[i] + "\"") << "acknowledged write lost: " << keys[i];
  }
}

class ServeShutdown : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.start_all();
    leader_ = cluster_.wait_for_leader(Millis(15000)).value_or("");
    ASSERT_FALSE(leader_.empty());
  }
  ServeCluster cluster_{{.servers = 3, .extra_args = {"--drain-ms", std::to_string(kDrainMs)}}};
  std::string leader_;
};

TEST_F(ServeShutdown, SigtermOfTheLeaderWithWritesInFlight) {
  std::vector<std::string> acked = sigterm_under_load(cluster_, leader_, leader_, 2000);
  cluster_.start(leader_);
  auto leader = cluster_.wait_for_leader(Millis(15000));
  ASSERT_TRUE(leader);
  expect_present(cluster_.client_port(leader_), acked);
}

TEST_F(ServeShutdown, SigtermOfAFollowerForwardingWrites) {
  std::string follower = cluster_.follower_of(leader_);
  std::vector<std::string> acked = sigterm_under_load(cluster_, follower, follower, 2000);
  // The whole cluster restarts: the data is on disk.
  for (const auto& id : cluster_.ids()) {
    if (cluster_.alive(id)) {
      ASSERT_EQ(cluster_.terminate(id, Millis(kDrainMs + kSlackMs)), std::optional<int>(0));
    }
  }
  cluster_.start_all();
  ASSERT_TRUE(cluster_.wait_for_leader(Millis(15000)));
  expect_present(cluster_.client_port(follower), acked);
}

}  // namespace
}  // namespace raftkv::test

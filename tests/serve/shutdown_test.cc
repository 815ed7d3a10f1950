// SIGTERM with requests in flight: a prompt, clean exit (code 0) after
// answering what it can, and nothing acknowledged is lost across a restart.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "resp/encode.h"
#include "serve_cluster.h"

namespace raftkv::test {
namespace {

constexpr int kDrainMs = 1000;
constexpr int kSlackMs = 4000;  // a loaded 2-core machine
constexpr int kWindow = 50;     // SETs in flight per connection

// Keeps every connection busy with pipelined windows of SETs of unique
// keys until the server goes away; the keys acknowledged OK.
void write_until_closed(RespClient& c, int conn, std::vector<std::string>& acked) {
  c.set_timeout(Millis(kDrainMs + kSlackMs));
  for (int i = 0;; i += kWindow) {
    std::string batch;
    for (int j = i; j < i + kWindow; ++j) {
      std::string key = fmt::format("d{}-{}", conn, j);
      resp::append_bulk_array(batch, {"SET", key, "v" + key});
    }
    try {
      c.send_raw(batch);
    } catch (const std::exception&) {
      return;
    }
    for (int j = i; j < i + kWindow; ++j) {
      auto r = c.read_reply();
      if (!r) return;  // the server closed: the rest was never answered
      std::string key = fmt::format("d{}-{}", conn, j);
      if (show(*r) == "OK") {
        acked.push_back(key);
      } else {
        EXPECT_TRUE(r->is_error()) << key << ": " << show(*r);
      }
    }
  }
}

// SIGTERMs `victim` while clients of `via` are writing as fast as they
// can; the keys acknowledged OK.
std::vector<std::string> sigterm_under_load(ServeCluster& cluster, const std::string& victim,
                                            const std::string& via) {
  constexpr int kConns = 4;
  std::vector<RespClient> conns;
  for (int c = 0; c < kConns; ++c) conns.push_back(cluster.client(via));
  std::vector<std::vector<std::string>> acked(kConns);
  std::vector<std::thread> writers;
  for (int c = 0; c < kConns; ++c) {
    writers.emplace_back(write_until_closed, std::ref(conns[c]), c, std::ref(acked[c]));
  }
  std::this_thread::sleep_for(Millis(700));
  Millis took{};
  std::optional<int> code = cluster.terminate(victim, Millis(kDrainMs + kSlackMs), &took);
  for (auto& w : writers) w.join();
  EXPECT_EQ(code, std::optional<int>(0)) << cluster.log_tail(victim);
  EXPECT_LE(took.count(), kDrainMs + kSlackMs);
  std::vector<std::string> all;
  for (auto& keys : acked) {
    EXPECT_FALSE(keys.empty()) << "a writer got no write through";
    all.insert(all.end(), keys.begin(), keys.end());
  }
  std::cout << "SIGTERM of " << victim << " (writes via " << via << "): exited in " << took.count()
            << " ms; " << all.size() << " writes acknowledged\n";
  // The server's own account: how many requests were in flight at SIGTERM.
  std::string log = cluster.log_tail(victim, 1 << 20);
  size_t at = log.rfind("stopping: ");
  EXPECT_NE(at, std::string::npos) << log;
  if (at != std::string::npos) std::cout << log.substr(at, log.find('\n', at) - at) << "\n";
  return all;
}

void expect_present(uint16_t port, const std::vector<std::string>& keys) {
  // A server just restarted may not know the leader yet.
  ASSERT_FALSE(call_until_settled(port, {"GET", "any"}).is_error());
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
  std::vector<std::string> acked = sigterm_under_load(cluster_, leader_, leader_);
  cluster_.start(leader_);
  auto leader = cluster_.wait_for_leader(Millis(15000));
  ASSERT_TRUE(leader);
  expect_present(cluster_.client_port(leader_), acked);
}

TEST_F(ServeShutdown, SigtermOfAFollowerForwardingWrites) {
  std::string follower = cluster_.follower_of(leader_);
  std::vector<std::string> acked = sigterm_under_load(cluster_, follower, follower);
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

// A client that stops reading holds replies the server cannot deliver:
// the drain gives up after --drain-ms and the server still exits 0.
TEST_F(ServeShutdown, SigtermWithAClientThatStopsReading) {
  std::string value(1 << 20, 'x');
  ASSERT_EQ(show(call_until_settled(cluster_.client_port(leader_), {"SET", "big", value})), "OK");
  RespClient stuck = cluster_.client(leader_);
  std::string batch;
  for (int i = 0; i < 32; ++i) resp::append_bulk_array(batch, {"GET", "big"});
  stuck.send_raw(batch);  // 32 MiB of replies, never read
  ASSERT_EQ(show(cluster_.client(leader_).call({"PING"})), "PONG");
  // SIGTERM while the server is still busy producing the replies.
  std::this_thread::sleep_for(Millis(100));
  Millis took{};
  std::optional<int> code = cluster_.terminate(leader_, Millis(kDrainMs + kSlackMs), &took);
  EXPECT_EQ(code, std::optional<int>(0)) << cluster_.log_tail(leader_);
  // The replies cannot all be delivered, so the drain lasts its full
  // --drain-ms, counted from the SIGTERM.
  EXPECT_GE(took.count(), kDrainMs) << "the drain was cut short";
  EXPECT_LE(took.count(), kDrainMs + kSlackMs);
  std::cout << "exited in " << took.count() << " ms with a client not reading\n";
}

}  // namespace
}  // namespace raftkv::test

// A server stopped while the others compact their logs catches up through
// InstallSnapshot when it comes back.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <thread>

#include "resp/encode.h"
#include "serve_cluster.h"

namespace raftkv::test {
namespace {

// `rounds` passes over keys s0..s59, each value naming its round.
void write_rounds(uint16_t port, int rounds) {
  RespClient c(port, Millis(20000));
  for (int round = 0; round < rounds; ++round) {
    std::string batch;
    for (int k = 0; k < 60; ++k) {
      resp::append_bulk_array(batch, {"SET", fmt::format("s{}", k), fmt::format("r{}", round)});
    }
    c.send_raw(batch);
    for (const resp::Reply& r : c.read_replies(60)) ASSERT_EQ(show(r), "OK");
  }
}

// The counter `metric{peer="peer"}` on /metrics of the server at `port`.
double peer_metric(uint16_t port, const std::string& metric, const std::string& peer) {
  std::string text = http_get(port, "/metrics");
  std::string prefix = fmt::format("{}{{peer=\"{}\"}} ", metric, peer);
  size_t at = text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + prefix.size()));
}

TEST(ServeSnapshot, RestartedServerCatchesUpThroughInstallSnapshot) {
  ServeCluster cluster({.servers = 3,
                        .metrics = true,
                        .extra_args = {"--compact-threshold", "50", "--compact-max-lag", "50",
                                       "--snapshot-chunk-bytes", "512"}});
  cluster.start_all();
  auto leader = cluster.wait_for_leader(Millis(15000));
  ASSERT_TRUE(leader);
  std::string stopped = cluster.follower_of(*leader);

  ASSERT_NO_FATAL_FAILURE(write_rounds(cluster.client_port(*leader), 1));
  ASSERT_EQ(cluster.terminate(stopped, Millis(10000)), std::optional<int>(0))
      << cluster.log_tail(stopped);

  // 600 writes: far past the threshold and the lag the leader keeps.
  ASSERT_NO_FATAL_FAILURE(write_rounds(cluster.client_port(*leader), 10));
  auto leader_info = cluster.info(*leader);
  ASSERT_GT(std::stoull(leader_info["first_index"]), 60u) << "the leader did not compact";

  // Between connection attempts the leader queues what it sends the stopped
  // server; a queue started before the compaction would let it catch up
  // from appends alone. One failed attempt after the writes drops it.
  uint16_t metrics = cluster.metrics_port(*leader);
  const std::string failures = "raftkv_peer_connect_failures_total";
  double failed_before = peer_metric(metrics, failures, stopped);
  ASSERT_GE(failed_before, 0) << http_get(metrics, "/metrics");
  auto attempt_deadline = std::chrono::steady_clock::now() + Millis(10000);
  while (peer_metric(metrics, failures, stopped) <= failed_before &&
         std::chrono::steady_clock::now() < attempt_deadline) {
    std::this_thread::sleep_for(Millis(50));
  }
  ASSERT_GT(peer_metric(metrics, failures, stopped), failed_before);

  cluster.start(stopped);
  uint64_t target = std::stoull(leader_info["commit_index"]);
  std::map<std::string, std::string> info;
  auto deadline = std::chrono::steady_clock::now() + Millis(20000);
  do {
    std::this_thread::sleep_for(Millis(50));
    info = cluster.info(stopped);
  } while (std::chrono::steady_clock::now() < deadline &&
           (info["applied_index"].empty() || std::stoull(info["applied_index"]) < target));
  ASSERT_FALSE(info["applied_index"].empty());
  EXPECT_GE(std::stoull(info["applied_index"]), target) << cluster.log_tail(stopped);
  EXPECT_GE(std::stoull(info["snapshots_installed"]), 1u)
      << cluster.log_tail(stopped) << cluster.log_tail(*leader);

  RespClient c = cluster.client(stopped);
  for (int k = 0; k < 60; ++k) {
    EXPECT_EQ(show(c.call({"GET", fmt::format("s{}", k)})), "\"r9\"") << "key s" << k;
  }
  // And it takes part in new writes.
  EXPECT_EQ(show(c.call({"SET", "after", "restart"})), "OK");
  EXPECT_EQ(show(cluster.client(*leader).call({"GET", "after"})), "\"restart\"");
}

}  // namespace
}  // namespace raftkv::test

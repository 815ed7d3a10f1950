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

TEST(ServeSnapshot, RestartedServerCatchesUpThroughInstallSnapshot) {
  ServeCluster cluster({.servers = 3,
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
  EXPECT_GE(std::stoull(info["snapshots_installed"]), 1u) << cluster.log_tail(stopped);

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

// --metrics serves Prometheus text on /metrics and 404 elsewhere.
#include <gtest/gtest.h>

#include "serve_cluster.h"

namespace raftkv::test {
namespace {

TEST(ServeMetrics, PrometheusTextOnMetricsAnd404Elsewhere) {
  ServeCluster cluster({.servers = 3, .metrics = true, .extra_args = {}});
  cluster.start_all();
  auto leader = cluster.wait_for_leader(Millis(15000));
  ASSERT_TRUE(leader);
  ASSERT_EQ(show(call_until_settled(cluster.client_port(*leader), {"SET", "m", "1"})), "OK");
  RespClient held = cluster.client(*leader);  // one open client connection

  std::string text = http_get(cluster.metrics_port(*leader), "/metrics");
  ASSERT_EQ(text.rfind("HTTP/1.1 200", 0), 0u) << text.substr(0, 200);
  EXPECT_NE(text.find("text/plain"), std::string::npos);
  for (const char* name :
       {"raftkv_fsync_seconds_bucket{le=", "raftkv_fsync_seconds_count", "\nraftkv_commit_index ",
        "\nraftkv_term ", "\nraftkv_client_connections ", "\nraftkv_is_leader 1",
        "# TYPE raftkv_fsync_seconds histogram"}) {
    EXPECT_NE(text.find(name), std::string::npos) << "missing " << name;
  }
  size_t at = text.find("\nraftkv_client_connections ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoll(text.substr(at + 27)), 1);
  at = text.find("\nraftkv_commit_index ");
  ASSERT_NE(at, std::string::npos);
  EXPECT_GE(std::stoll(text.substr(at + 21)), 1);

  std::string other = http_get(cluster.metrics_port(*leader), "/other");
  EXPECT_EQ(other.rfind("HTTP/1.1 404", 0), 0u) << other.substr(0, 200);
  std::string follower = http_get(cluster.metrics_port(cluster.follower_of(*leader)), "/metrics");
  EXPECT_NE(follower.find("\nraftkv_is_leader 0"), std::string::npos);
}

}  // namespace
}  // namespace raftkv::test

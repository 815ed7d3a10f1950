#include "idle_connections.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "serve_cluster.h"

namespace raftkv::test {

namespace {

// This process holds one fd per connection: lift the soft limit to the hard one.
void raise_fd_limit() {
  rlimit r{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &r), 0);
  r.rlim_cur = r.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &r), 0);
}

int64_t connected_clients(ServeCluster& cluster, const std::string& id) {
  auto info = cluster.info(id);
  return info.count("connected_clients") ? std::stoll(info["connected_clients"]) : -1;
}

// Polls INFO until `pred(connected_clients)` holds or `timeout` passes; the last count.
template <typename Pred>
int64_t wait_for_count(ServeCluster& cluster, const std::string& id, Pred pred, Millis timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int64_t count = connected_clients(cluster, id);
  while (!pred(count) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(Millis(100));
    count = connected_clients(cluster, id);
  }
  return count;
}

}  // namespace

void check_many_idle_connections(int n) {
  ASSERT_NO_FATAL_FAILURE(raise_fd_limit());
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  ASSERT_GT(r.rlim_cur, static_cast<rlim_t>(n + 100)) << "RLIMIT_NOFILE hard limit too low";

  ServeCluster cluster;
  cluster.start_all();
  const std::string id = "n2";
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = connect_tcp(cluster.client_port(id));
    ASSERT_GE(fd, 0) << "connection " << i << ": " << std::strerror(errno);
    fds.push_back(fd);
  }
  // INFO's own connection counts too.
  int64_t count = wait_for_count(
      cluster, id, [n](int64_t c) { return c >= n + 1; }, Millis(20000));
  EXPECT_EQ(count, n + 1);

  auto start = std::chrono::steady_clock::now();
  {
    RespClient fresh = cluster.client(id);
    EXPECT_EQ(show(fresh.call({"PING"})), "PONG");
  }
  auto took = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
  EXPECT_LT(took.count(), 2000) << "PING on a fresh connection took " << took.count() << " ms";
  std::cout << n << " idle connections: fresh PING took " << took.count() << " ms\n";

  // The idle ones still work.
  const char ping[] = "*1\r\n$4\r\nPING\r\n";
  for (int fd : {fds.front(), fds[fds.size() / 2], fds.back()}) {
    ASSERT_EQ(write(fd, ping, sizeof ping - 1), static_cast<ssize_t>(sizeof ping - 1));
    char buf[16] = {};
    ASSERT_EQ(read(fd, buf, 7), 7);
    EXPECT_EQ(std::string(buf, 7), "+PONG\r\n");
  }
  for (int fd : fds) close(fd);
  count = wait_for_count(
      cluster, id, [](int64_t c) { return c >= 0 && c <= 1; }, Millis(20000));
  EXPECT_EQ(count, 1) << "closed connections still counted";
  EXPECT_TRUE(cluster.alive(id));
}

}  // namespace raftkv::test

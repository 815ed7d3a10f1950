#include "net/tcp_server.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <vector>

#include "test_util.h"

namespace raftkv::net {
namespace {

using testing::closed_by_server;
using testing::connect_client;
using testing::read_available;
using testing::run_until;
using testing::write_all;

// An echo server that records what happened.
struct Echo {
  EventLoop loop;
  std::set<ConnId> open;
  std::vector<ConnId> closed;
  std::string received;
  bool echo = true;
  TcpServer server{loop,
                   {.on_open = [this](ConnId id) { open.insert(id); },
                    .on_data =
                        [this](ConnId id, std::string_view b) {
                          received.append(b);
                          if (echo) server.send(id, b);
                        },
                    .on_close =
                        [this](ConnId id) {
                          open.erase(id);
                          closed.push_back(id);
                        }},
                   {.log = [](std::string_view) {}}};
  Echo() { server.listen("127.0.0.1", 0); }
};

TEST(TcpServer, EchoesAndReportsOpenAndClose) {
  Echo e;
  ASSERT_NE(e.server.port(), 0);
  Fd c = connect_client(e.server.port());
  ASSERT_TRUE(c);
  write_all(c.get(), "hello");
  std::string got;
  ASSERT_TRUE(run_until(e.loop, [&] {
    read_available(c.get(), &got);
    return got == "hello";
  }));
  EXPECT_EQ(e.server.connection_count(), 1u);
  EXPECT_EQ(e.server.peer_address(*e.open.begin()).rfind("127.0.0.1:", 0), 0u);
  c.reset();
  ASSERT_TRUE(run_until(e.loop, [&] { return e.server.connection_count() == 0; }));
  EXPECT_EQ(e.closed.size(), 1u);
}

TEST(TcpServer, ListenOnABusyPortThrowsWithTheAddress) {
  Echo e;
  EventLoop loop;
  TcpServer other(loop, {});
  try {
    other.listen("127.0.0.1", e.server.port());
    FAIL() << "listen succeeded";
  } catch (const std::runtime_error& err) {
    EXPECT_NE(std::string(err.what()).find("127.0.0.1:" + std::to_string(e.server.port())),
              std::string::npos)
        << err.what();
  }
  EXPECT_THROW(other.listen("not-an-ip", 0), std::runtime_error);
}

size_t resident_bytes() {
  long pages = 0, resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f && std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  if (f) std::fclose(f);
  return static_cast<size_t>(resident) * ::sysconf(_SC_PAGESIZE);
}

// A child process opens `n` connections and holds them until `hold` closes.
pid_t spawn_idle_clients(uint16_t port, int n, int* hold_write_end) {
  int hold[2];
  if (::pipe(hold) != 0) return -1;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(hold[1]);
    raise_fd_limit();
    std::vector<Fd> clients;
    for (int i = 0; i < n; ++i) clients.push_back(connect_client(port));
    char c;
    while (::read(hold[0], &c, 1) != 0) {
    }
    ::_exit(0);
  }
  ::close(hold[0]);
  *hold_write_end = hold[1];
  return pid;
}

// RAFTKV_IDLE_CONNECTIONS=10000 build/net_test --gtest_filter='*IdleConnections*'
// measures more (the serve main raises RLIMIT_NOFILE the same way).
TEST(TcpServer, HoldsThousandsOfIdleConnections) {
  const char* env = std::getenv("RAFTKV_IDLE_CONNECTIONS");
  int n = env ? std::atoi(env) : 2000;
  ASSERT_GE(raise_fd_limit(), static_cast<uint64_t>(n) + 100) << "RLIMIT_NOFILE too low";
  Echo e;
  e.loop.run_once(0);
  size_t rss_before = resident_bytes();
  int64_t start = testing::now_ms();
  int hold = -1;
  pid_t child = spawn_idle_clients(e.server.port(), n, &hold);
  ASSERT_GT(child, 0);
  bool all = run_until(
      e.loop, [&] { return e.server.connection_count() == size_t(n); }, 30000);
  int64_t took = testing::now_ms() - start;
  size_t rss_after = resident_bytes();
  // Still serving: a new client gets its echo.
  Fd probe = connect_client(e.server.port());
  write_all(probe.get(), "ping");
  std::string got;
  bool echoed = run_until(e.loop, [&] {
    read_available(probe.get(), &got);
    return got == "ping";
  });
  ::close(hold);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(all) << e.server.connection_count() << " of " << n;
  EXPECT_TRUE(echoed);
  std::printf("%d idle connections accepted in %lld ms; server RSS grew %zu KiB (%zu B each)\n", n,
              static_cast<long long>(took), (rss_after - rss_before) >> 10,
              (rss_after - rss_before) / n);
  probe.reset();
  ASSERT_TRUE(run_until(e.loop, [&] { return e.server.connection_count() == 0; }));
  EXPECT_EQ(e.closed.size(), size_t(n) + 1);
}

TEST(TcpServer, ClientThatSendsPartOfARequestAndVanishesIsFreed) {
  Echo e;
  e.echo = false;
  {
    Fd c = connect_client(e.server.port());
    write_all(c.get(), "*3\r\n$3\r\nSET\r\n$1");  // half a command
    ASSERT_TRUE(run_until(e.loop, [&] { return !e.received.empty(); }));
  }
  ASSERT_TRUE(run_until(e.loop, [&] { return e.server.connection_count() == 0; }));
  EXPECT_EQ(e.closed.size(), 1u);
}

TEST(TcpServer, ResetConnectionAndWritesToItDoNotKillTheProcess) {
  Echo e;
  e.echo = false;
  Fd c = connect_client(e.server.port());
  ASSERT_TRUE(run_until(e.loop, [&] { return e.open.size() == 1; }));
  ConnId id = *e.open.begin();
  linger hard{1, 0};  // close sends RST
  ::setsockopt(c.get(), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  c.reset();
  // Writing into the reset connection gets EPIPE/ECONNRESET, not SIGPIPE.
  e.server.send(id, std::string(1 << 20, 'x'));
  e.server.flush(id);
  ASSERT_TRUE(run_until(e.loop, [&] { return e.server.connection_count() == 0; }));
  EXPECT_EQ(e.closed, std::vector<ConnId>{id});
  e.server.send(id, "ignored");  // a closed id is ignored
}

TEST(TcpServer, AClientThatShutsDownWritingStillGetsItsAnswers) {
  Echo e;  // echoes from on_data, then sees EOF in the same read burst
  Fd c = connect_client(e.server.port());
  write_all(c.get(), "PING\r\n");
  ::shutdown(c.get(), SHUT_WR);
  std::string got;
  ASSERT_TRUE(run_until(e.loop, [&] { return !read_available(c.get(), &got); }));
  EXPECT_EQ(got, "PING\r\n");
  EXPECT_EQ(e.server.connection_count(), 0u);
}

TEST(TcpServer, OnReadClosedLetsTheOwnerAnswerLater) {
  EventLoop loop;
  ConnId eof = 0;
  TcpServer server(loop, {.on_read_closed = [&](ConnId id) { eof = id; }});
  server.listen("127.0.0.1", 0);
  Fd c = connect_client(server.port());
  write_all(c.get(), "GET");
  ::shutdown(c.get(), SHUT_WR);
  ASSERT_TRUE(run_until(loop, [&] { return eof != 0; }));
  EXPECT_EQ(server.connection_count(), 1u);  // still open for the answer
  server.send(eof, "late answer");
  server.close_after_flush(eof);
  std::string got;
  ASSERT_TRUE(run_until(loop, [&] { return !read_available(c.get(), &got); }));
  EXPECT_EQ(got, "late answer");
  EXPECT_EQ(server.connection_count(), 0u);
}

TEST(TcpServer, CloseAfterFlushDeliversEverythingThenCloses) {
  Echo e;
  e.echo = false;
  Fd c = connect_client(e.server.port());
  ASSERT_TRUE(run_until(e.loop, [&] { return e.open.size() == 1; }));
  ConnId id = *e.open.begin();
  std::string big(4 << 20, 'z');
  e.server.send(id, big);
  e.server.close_after_flush(id);
  std::string got;
  bool open = true;
  ASSERT_TRUE(run_until(e.loop, [&] {
    open = read_available(c.get(), &got);
    return !open;
  }));
  EXPECT_EQ(got.size(), big.size());
  EXPECT_EQ(e.server.connection_count(), 0u);
}

TEST(TcpServer, SlowReaderIsPausedAndResumed) {
  Echo e;
  e.echo = false;
  Fd c = connect_client(e.server.port());
  ASSERT_TRUE(run_until(e.loop, [&] { return e.open.size() == 1; }));
  ConnId id = *e.open.begin();
  // The client does not read: output piles up beyond the socket buffers.
  for (int i = 0; i < 64; ++i) e.server.send(id, std::string(1 << 20, 'o'));
  for (int i = 0; i < 20; ++i) e.loop.run_once(1);
  size_t pending = e.server.pending_output(id);
  EXPECT_GT(pending, 0u);
  // What a server does over its output limit: stop reading this client.
  e.server.pause_reading(id, true);
  write_all(c.get(), "more");
  for (int i = 0; i < 20; ++i) e.loop.run_once(1);
  EXPECT_EQ(e.received, "");
  // The client drains; the server resumes and sees the request.
  std::string got;
  ASSERT_TRUE(run_until(e.loop, [&] {
    read_available(c.get(), &got);
    return e.server.pending_output(id) == 0;
  }));
  e.server.pause_reading(id, false);
  ASSERT_TRUE(run_until(e.loop, [&] { return e.received == "more"; }));
}

TEST(TcpServer, OutOfFdsRefusesConnectionsWithoutSpinning) {
  Echo e;
  e.echo = false;
  std::vector<Fd> clients;
  for (int i = 0; i < 10; ++i) clients.push_back(connect_client(e.server.port()));
  // Leave room for the server to accept only two of them.
  rlimit old{};
  ::getrlimit(RLIMIT_NOFILE, &old);
  int probe = ::dup(0);
  ::close(probe);
  rlimit low = old;
  low.rlim_cur = probe + 2;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  int turns = 0, events = 0;
  int64_t end = testing::now_ms() + 300;
  while (testing::now_ms() < end) {
    events += e.loop.run_once(50);
    ++turns;
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &old), 0);
  EXPECT_GE(e.server.stats().refused_no_fds, 1u);
  EXPECT_LE(e.server.connection_count(), 2u);
  EXPECT_LT(events, 50) << "the loop spun on the listening socket";
  // Refused clients see a close; with fds back, new clients are served.
  int closed = 0;
  for (Fd& c : clients) {
    std::string ignored;
    if (!read_available(c.get(), &ignored)) ++closed;
  }
  EXPECT_GE(closed, 1);
  Fd later = connect_client(e.server.port());
  size_t before = e.server.connection_count();
  ASSERT_TRUE(run_until(e.loop, [&] { return e.server.connection_count() > before; }));
  (void)turns;
}

TEST(TcpServer, StopAcceptingRefusesNewClientsButKeepsOldOnes) {
  Echo e;
  Fd c = connect_client(e.server.port());
  ASSERT_TRUE(run_until(e.loop, [&] { return e.server.connection_count() == 1; }));
  uint16_t port = e.server.port();
  e.server.stop_accepting();
  EXPECT_FALSE(connect_client(port));
  write_all(c.get(), "still here");
  std::string got;
  ASSERT_TRUE(run_until(e.loop, [&] {
    read_available(c.get(), &got);
    return got == "still here";
  }));
}

}  // namespace
}  // namespace raftkv::net

// Garbage on the client and peer ports: errors and closed connections, never
// a dead server.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>

#include "resp/encode.h"
#include "serve_cluster.h"
#include "wire/peer_codec.h"

namespace raftkv::test {
namespace {

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Sends bytes on a fresh connection to `port`; the connection stays open
// for the caller to check or drop.
RespClient send_on_fresh(uint16_t port, std::string_view bytes) {
  RespClient c(port, Millis(3000));
  c.send_raw(bytes);
  return c;
}

class ServeGarbage : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.start_all();
    leader_ = cluster_.wait_for_leader(Millis(15000)).value_or("");
    ASSERT_FALSE(leader_.empty());
  }
  void TearDown() override {
    // Whatever came before, every server still runs and serves.
    for (const auto& id : cluster_.ids()) {
      ASSERT_TRUE(cluster_.alive(id)) << cluster_.log_tail(id);
      EXPECT_EQ(show(cluster_.client(id).call({"PING"})), "PONG");
    }
    EXPECT_EQ(show(call_until_settled(cluster_.client_port("n1"), {"SET", "after", "garbage"})),
              "OK");
    EXPECT_EQ(show(call_until_settled(cluster_.client_port("n3"), {"GET", "after"})),
              "\"garbage\"");
  }

  ServeCluster cluster_{{.servers = 3, .extra_args = {"--max-bulk-bytes", "1024"}}};
  std::string leader_;
};

TEST_F(ServeGarbage, ClientPortRandomBytesHttpAndHalfFrames) {
  std::mt19937 rng(12345);
  for (const auto& id : cluster_.ids()) {
    uint16_t port = cluster_.client_port(id);
    for (int i = 0; i < 20; ++i) send_on_fresh(port, random_bytes(rng, 1 + rng() % 4000));
    send_on_fresh(port, "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl\r\n\r\n");
    send_on_fresh(port, "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    send_on_fresh(port, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nab");  // half a frame, then close
    send_on_fresh(port, "*2\r\n$3\r\nGET\r\n");                     // the key never comes
    send_on_fresh(port, "*-5\r\n*99999999999999999999\r\n$-7\r\n");
  }
}

TEST_F(ServeGarbage, OversizedBulkGetsAProtocolErrorAndTheConnectionCloses) {
  for (const auto& id : cluster_.ids()) {
    RespClient ok = cluster_.client(id);
    EXPECT_EQ(show(ok.call({"SET", "big", std::string(1024, 'x')})), "OK");  // at the limit

    RespClient c(cluster_.client_port(id), Millis(5000));
    c.send_raw("*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$1025\r\n");
    auto r = c.read_reply();
    ASSERT_TRUE(r) << c.error();
    EXPECT_TRUE(r->is_error()) << show(*r);
    EXPECT_NE(r->str.find("rotocol"), std::string::npos) << show(*r);
    EXPECT_TRUE(c.wait_closed(Millis(5000))) << "the connection stayed open";

    // A bulk header far beyond any limit, without a body.
    RespClient huge(cluster_.client_port(id), Millis(5000));
    huge.send_raw("*2\r\n$3\r\nGET\r\n$99999999999\r\n");
    r = huge.read_reply();
    ASSERT_TRUE(r) << huge.error();
    EXPECT_TRUE(r->is_error()) << show(*r);
    EXPECT_TRUE(huge.wait_closed(Millis(5000)));
  }
}

TEST_F(ServeGarbage, UnknownCommandsAndWrongArityKeepTheConnectionUsable) {
  RespClient c = cluster_.client(cluster_.follower_of(leader_));
  resp::Reply r = c.call({"FLUSHALL"});
  EXPECT_TRUE(r.is_error() && r.str.rfind("ERR", 0) == 0) << show(r);
  r = c.call({"NOSUCHCOMMAND", "a", "b"});
  EXPECT_TRUE(r.is_error()) << show(r);
  r = c.call({"GET"});
  EXPECT_TRUE(r.is_error() && r.str.find("wrong number of arguments") != std::string::npos)
      << show(r);
  r = c.call({"SET", "k"});
  EXPECT_TRUE(r.is_error()) << show(r);
  r = c.call({"SET", "k", "v", "NX", "XX"});
  EXPECT_TRUE(r.is_error()) << show(r);
  r = c.call({"INCRBY", "k", "not-a-number"});
  EXPECT_TRUE(r.is_error()) << show(r);
  EXPECT_EQ(show(c.call({"PING"})), "PONG");
  EXPECT_EQ(show(call_until_settled(cluster_.client_port(leader_), {"SET", "k", "v"})), "OK");
  EXPECT_EQ(show(c.call({"GET", "k"})), "\"v\"");
  EXPECT_EQ(show(c.call({"EXISTS", "k"})), "(integer) 1");
  // Inline commands (telnet style) work too.
  c.send_raw("PING\r\n");
  auto pong = c.read_reply();
  ASSERT_TRUE(pong);
  EXPECT_EQ(show(*pong), "PONG");
}

TEST_F(ServeGarbage, PeerPortRandomBytesAndBogusHellos) {
  std::mt19937 rng(777);
  std::vector<RespClient> must_close;
  for (const auto& id : cluster_.ids()) {
    uint16_t port = cluster_.peer_port(id);
    for (int i = 0; i < 10; ++i) send_on_fresh(port, random_bytes(rng, 1 + rng() % 4000));
    // A hello from a server that is not a member, and one meant for another server.
    std::string stranger, misdirected, then_garbage;
    wire::append_hello_frame({"mallory", id}, stranger);
    wire::append_hello_frame({id == "n1" ? "n2" : "n1", "n9"}, misdirected);
    // A well-formed hello from a real member, then a frame that cannot decode.
    wire::append_hello_frame({id == "n1" ? "n2" : "n1", id}, then_garbage);
    then_garbage += std::string("\x05\x00\x00\x00", 4) + "\xff\xff\xff\xff\xff";
    std::string oversized("\xff\xff\xff\xf0", 4);  // little-endian length: ~4 GiB
    for (const std::string& bytes : {stranger, misdirected, then_garbage, oversized}) {
      must_close.push_back(send_on_fresh(port, bytes));
    }
    std::string truncated = stranger.substr(0, stranger.size() / 2);
    send_on_fresh(port, truncated);  // half a hello, then close
  }
  for (size_t i = 0; i < must_close.size(); ++i) {
    EXPECT_TRUE(must_close[i].wait_closed(Millis(8000))) << "peer connection " << i << " left open";
  }
}

}  // namespace
}  // namespace raftkv::test

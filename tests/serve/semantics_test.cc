// A 3-server cluster serves clients through every member, with Redis
// semantics end to end and in-order pipelining.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <map>

#include "resp/encode.h"
#include "serve_cluster.h"

namespace raftkv::test {
namespace {

class ServeSemantics : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.start_all();
    auto l = cluster_.wait_for_leader(Millis(15000));
    ASSERT_TRUE(l) << cluster_.log_tail("n1");
    leader_ = *l;
    for (const auto& id : cluster_.ids()) {
      if (id != leader_) followers_.push_back(id);
    }
  }
  // A command through `id`, its reply shown redis-cli style.
  std::string run(const std::string& id, const std::vector<std::string>& args) {
    return show(call_until_settled(cluster_.client_port(id), args));
  }

  ServeCluster cluster_;
  std::string leader_;
  std::vector<std::string> followers_;
};

TEST_F(ServeSemantics, EveryMemberServesReadsAndWrites) {
  // Written through one follower, read through every member.
  EXPECT_EQ(run(followers_[0], {"SET", "greeting", "hello"}), "OK");
  for (const auto& id : cluster_.ids()) {
    EXPECT_EQ(run(id, {"GET", "greeting"}), "\"hello\"") << "through " << id;
  }
  EXPECT_EQ(run(leader_, {"SET", "greeting", "again"}), "OK");
  EXPECT_EQ(run(followers_[1], {"GET", "greeting"}), "\"again\"");
  EXPECT_EQ(run(followers_[1], {"GET", "never-written"}), "(nil)");
}

TEST_F(ServeSemantics, SetConditionsDelExistsIncr) {
  const std::string& f = followers_[0];
  EXPECT_EQ(run(f, {"SET", "k", "v1"}), "OK");
  EXPECT_EQ(run(f, {"SET", "k", "v2", "NX"}), "(nil)");  // present: NX refuses
  EXPECT_EQ(run(f, {"GET", "k"}), "\"v1\"");
  EXPECT_EQ(run(f, {"SET", "fresh", "x", "NX"}), "OK");
  EXPECT_EQ(run(f, {"SET", "absent", "x", "XX"}), "(nil)");  // absent: XX refuses
  EXPECT_EQ(run(f, {"EXISTS", "absent"}), "(integer) 0");
  EXPECT_EQ(run(f, {"SET", "k", "v3", "XX"}), "OK");
  EXPECT_EQ(run(f, {"SET", "k", "v4", "IFEQ", "wrong"}), "(nil)");
  EXPECT_EQ(run(f, {"SET", "k", "v4", "IFEQ", "v3"}), "OK");
  EXPECT_EQ(run(leader_, {"GET", "k"}), "\"v4\"");
  // IFEQ on a missing key neither matches nor creates it.
  EXPECT_EQ(run(f, {"SET", "missing", "x", "IFEQ", "y"}), "(nil)");
  EXPECT_EQ(run(f, {"EXISTS", "missing"}), "(integer) 0");
  // SET ... GET returns the old value (nil when there was none).
  EXPECT_EQ(run(f, {"SET", "k", "v5", "GET"}), "\"v4\"");
  EXPECT_EQ(run(f, {"SET", "new", "n", "GET"}), "(nil)");
  EXPECT_EQ(run(f, {"GET", "new"}), "\"n\"");
  EXPECT_EQ(run(f, {"SET", "k", "v6", "NX", "GET"}), "\"v5\"");  // refused, old value shown
  EXPECT_EQ(run(f, {"GET", "k"}), "\"v5\"");

  EXPECT_EQ(run(f, {"EXISTS", "k", "fresh", "missing"}), "(integer) 2");
  EXPECT_EQ(run(f, {"DEL", "k", "fresh", "missing"}), "(integer) 2");
  EXPECT_EQ(run(f, {"EXISTS", "k", "fresh"}), "(integer) 0");
  EXPECT_EQ(run(followers_[1], {"GET", "k"}), "(nil)");
  EXPECT_EQ(run(f, {"DEL", "k"}), "(integer) 0");

  EXPECT_EQ(run(f, {"INCR", "counter"}), "(integer) 1");
  EXPECT_EQ(run(f, {"INCRBY", "counter", "10"}), "(integer) 11");
  EXPECT_EQ(run(leader_, {"DECR", "counter"}), "(integer) 10");
  EXPECT_EQ(run(followers_[1], {"DECRBY", "counter", "15"}), "(integer) -5");
  EXPECT_EQ(run(f, {"GET", "counter"}), "\"-5\"");
  std::string not_int = run(f, {"INCR", "new"});
  EXPECT_EQ(not_int.rfind("(error) ERR", 0), 0u) << not_int;
  EXPECT_EQ(run(f, {"GET", "new"}), "\"n\"");

  EXPECT_EQ(run(f, {"PING"}), "PONG");
  EXPECT_EQ(run(f, {"ECHO", "hi"}), "\"hi\"");
}

// The connection-level commands clients send on connect, answered by the
// server itself.
TEST_F(ServeSemantics, ConnectionCommands) {
  for (const auto& id : cluster_.ids()) {
    RespClient c = cluster_.client(id);
    resp::Reply hello = c.call({"HELLO", "2", "SETNAME", "tester"});
    ASSERT_EQ(hello.type, resp::Reply::Type::kArray) << show(hello);
    std::map<std::string, std::string> fields;
    for (size_t i = 0; i + 1 < hello.elements.size(); i += 2) {
      fields[hello.elements[i].str] = show(hello.elements[i + 1]);
    }
    EXPECT_EQ(fields["proto"], "(integer) 2");
    EXPECT_EQ(fields["role"], id == leader_ ? "\"master\"" : "\"replica\"");
    EXPECT_TRUE(c.call({"HELLO", "3"}).str.rfind("NOPROTO", 0) == 0);
    EXPECT_EQ(show(c.call({"CLIENT", "GETNAME"})), "\"tester\"");
    EXPECT_EQ(show(c.call({"CLIENT", "SETNAME", "other"})), "OK");
    EXPECT_EQ(show(c.call({"CLIENT", "GETNAME"})), "\"other\"");
    EXPECT_EQ(c.call({"CLIENT", "ID"}).type, resp::Reply::Type::kInteger);
    EXPECT_EQ(show(c.call({"SELECT", "0"})), "OK");
    EXPECT_TRUE(c.call({"SELECT", "1"}).is_error());
    EXPECT_EQ(c.call({"COMMAND", "COUNT"}).type, resp::Reply::Type::kInteger);
    EXPECT_EQ(c.call({"COMMAND"}).type, resp::Reply::Type::kArray);
    resp::Reply members = c.call({"RAFT.MEMBERS"});
    ASSERT_EQ(members.elements.size(), 3u) << show(members);
    int leaders = 0;
    for (const auto& m : members.elements) {
      if (m.str.find(" leader") != std::string::npos) {
        ++leaders;
        EXPECT_EQ(m.str.rfind(leader_ + " ", 0), 0u) << m.str;
      }
    }
    EXPECT_EQ(leaders, 1) << show(members);
    resp::Reply info = c.call({"INFO", "raft"});
    EXPECT_NE(info.str.find("# Raft"), std::string::npos);
    EXPECT_EQ(info.str.find("# Server"), std::string::npos);
    EXPECT_NE(info.str.find("role:" + std::string(id == leader_ ? "leader" : "follower")),
              std::string::npos);
    EXPECT_EQ(show(c.call({"QUIT"})), "OK");
    EXPECT_TRUE(c.wait_closed(Millis(5000)));
  }
}

// Values of several MiB go through a follower (forwarded in one peer frame),
// replicate and read back intact.
TEST_F(ServeSemantics, LargeValuesThroughAFollower) {
  RespClient c(cluster_.client_port(followers_[0]), Millis(30000));
  std::string value(8 << 20, '\0');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>((i * 7919) >> 3);
  ASSERT_EQ(show(c.call({"SET", "large", value})), "OK");
  RespClient other(cluster_.client_port(followers_[1]), Millis(30000));
  resp::Reply r = other.call({"GET", "large"});
  ASSERT_EQ(r.type, resp::Reply::Type::kBulk) << show(r);
  EXPECT_EQ(r.str.size(), value.size());
  EXPECT_TRUE(r.str == value);
}

// 1,000 commands in one write: SET k i and GET k alternating. Replies must
// come back in order and each GET must see the SET just before it, even
// though reads and writes take different paths through the core.
void check_pipeline(uint16_t port, const std::string& prefix) {
  RespClient c(port, Millis(30000));
  std::string batch;
  for (int i = 0; i < 500; ++i) {
    std::string key = prefix + std::to_string(i % 7);
    resp::append_bulk_array(batch, {"SET", key, std::to_string(i)});
    resp::append_bulk_array(batch, {"GET", key});
  }
  c.send_raw(batch);
  std::vector<resp::Reply> replies = c.read_replies(1000);
  for (int i = 0; i < 500; ++i) {
    ASSERT_EQ(show(replies[2 * i]), "OK") << "SET #" << i;
    ASSERT_EQ(show(replies[2 * i + 1]), fmt::format("\"{}\"", i)) << "GET #" << i;
  }
  EXPECT_EQ(show(c.call({"PING"})), "PONG");  // and the connection is still in step
}

TEST_F(ServeSemantics, PipelinedMixedCommandsKeepTheirOrder) {
  check_pipeline(cluster_.client_port(leader_), "lead-");
  check_pipeline(cluster_.client_port(followers_[0]), "foll-");
}

// More commands than a connection may have unanswered (4,096) in one
// write: the server stops reading, answers, reads on; nothing is lost.
TEST_F(ServeSemantics, PipelineLongerThanTheUnansweredLimit) {
  RespClient c(cluster_.client_port(followers_[0]), Millis(60000));
  std::string batch;
  constexpr int kIncrs = 6000;
  for (int i = 0; i < kIncrs; ++i) resp::append_bulk_array(batch, {"INCR", "long-counter"});
  resp::append_bulk_array(batch, {"GET", "long-counter"});
  c.send_raw(batch);
  std::vector<resp::Reply> replies = c.read_replies(kIncrs + 1);
  for (int i = 0; i < kIncrs; ++i) {
    ASSERT_EQ(show(replies[i]), fmt::format("(integer) {}", i + 1)) << "INCR #" << i;
  }
  EXPECT_EQ(show(replies[kIncrs]), fmt::format("\"{}\"", kIncrs));
}

// `printf 'SET k v\r\nGET k\r\n' | nc -N host port`: the client sends its
// commands and half-closes (shutdown(SHUT_WR)), then reads the replies.
// Every command the server read must be answered before it closes.
TEST_F(ServeSemantics, HalfClosedClientStillGetsItsReplies) {
  for (const auto& id : cluster_.ids()) {
    RespClient c(cluster_.client_port(id), Millis(10000));
    std::string key = "half-" + id;
    std::string batch;
    resp::append_bulk_array(batch, {"SET", key, "v"});
    resp::append_bulk_array(batch, {"GET", key});
    resp::append_bulk_array(batch, {"PING"});
    c.send_raw(batch);
    ASSERT_EQ(::shutdown(c.fd(), SHUT_WR), 0);
    std::vector<std::string> got;
    while (auto r = c.read_reply()) got.push_back(show(*r));
    EXPECT_EQ(got, (std::vector<std::string>{"OK", "\"v\"", "PONG"}))
        << "through " << id << " (" << (id == leader_ ? "leader" : "follower")
        << "); then: " << c.error() << "; the SET applied anyway: "
        << show(call_until_settled(cluster_.client_port(leader_), {"GET", key}));
  }
}

}  // namespace
}  // namespace raftkv::test

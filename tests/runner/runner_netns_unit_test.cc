// Unit tests of --net netns's parts that need no namespaces: RESP encoding and
// replies, how replies map to ok/fail/info, the nftables rulesets, server
// command lines, and the TCP transport against an in-process RESP server on
// 127.0.0.1 (connects, refusals, broken connections, reconnects).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <optional>
#include <random>

#include "cli.h"
#include "client.h"
#include "clock.h"
#include "event_loop.h"
#include "netns_mode.h"
#include "network.h"
#include "nft_partition.h"
#include "resp_client.h"
#include "tcp_transport.h"

namespace runner {
namespace {

using raftkv::maelstrom::Json;

Json body(const std::string& type, int key, Json a = nullptr, Json b = nullptr) {
  Json j;
  j["type"] = type;
  j["key"] = key;
  if (type == "write") j["value"] = a;
  if (type == "cas") {
    j["from"] = a;
    j["to"] = b;
  }
  return j;
}

TEST(Resp, EncodesLinKvOperations) {
  EXPECT_EQ(resp_request(body("read", 3), CasStyle::kIfeq), "*2\r\n$3\r\nGET\r\n$1\r\n3\r\n");
  EXPECT_EQ(resp_request(body("write", 12, 4), CasStyle::kIfeq),
            "*3\r\n$3\r\nSET\r\n$2\r\n12\r\n$1\r\n4\r\n");
  EXPECT_EQ(resp_request(body("cas", 1, 2, 3), CasStyle::kIfeq),
            "*5\r\n$3\r\nSET\r\n$1\r\n1\r\n$1\r\n3\r\n$4\r\nIFEQ\r\n$1\r\n2\r\n");
  std::string eval = resp_request(body("cas", 1, 2, 3), CasStyle::kEval);
  EXPECT_EQ(eval.rfind("*6\r\n$4\r\nEVAL\r\n", 0), 0u) << eval;
  EXPECT_NE(eval.find("$1\r\n1\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"), std::string::npos) << eval;
  EXPECT_EQ(resp_request(body("init", 1), CasStyle::kIfeq), "");
}

// The outcome the runner records for a RESP reply to op.
lin::EventType outcome(lin::Fn f, RespReply reply, nlohmann::json* value = nullptr) {
  OpSpec op;
  op.f = f;
  op.key = 1;
  std::string name(lin::to_string(f));
  Message m{"n1", "c0", maelstrom_reply(name, 5, reply)};
  Outcome o = classify(op, m);
  if (value) *value = o.value;
  return o.type;
}

RespReply simple(RespReply::Type t, std::string text = "") {
  RespReply r;
  r.type = t;
  r.str = std::move(text);
  return r;
}

TEST(Resp, RepliesMapToMaelstromOutcomes) {
  using K = RespReply::Type;
  using T = lin::EventType;
  nlohmann::json v;
  EXPECT_EQ(outcome(lin::Fn::kRead, simple(K::kBulk, "3"), &v), T::kOk);
  EXPECT_EQ(v, 3);
  EXPECT_EQ(outcome(lin::Fn::kRead, simple(K::kNull), &v), T::kOk);  // absent
  EXPECT_TRUE(v.is_null());
  EXPECT_EQ(outcome(lin::Fn::kRead, simple(K::kError, "UNCERTAIN x")), T::kFail);
  EXPECT_EQ(outcome(lin::Fn::kWrite, simple(K::kSimple, "OK")), T::kOk);
  EXPECT_EQ(outcome(lin::Fn::kWrite, simple(K::kError, "UNCERTAIN lost leader")), T::kInfo);
  EXPECT_EQ(outcome(lin::Fn::kWrite, simple(K::kError, "TRYAGAIN no leader")), T::kFail);
  EXPECT_EQ(outcome(lin::Fn::kWrite, simple(K::kError, "ERR syntax")), T::kFail);
  EXPECT_EQ(outcome(lin::Fn::kCas, simple(K::kSimple, "OK")), T::kOk);
  EXPECT_EQ(outcome(lin::Fn::kCas, simple(K::kBulk, "OK")), T::kOk);  // a script's reply
  EXPECT_EQ(outcome(lin::Fn::kCas, simple(K::kNull)), T::kFail);
  EXPECT_EQ(outcome(lin::Fn::kCas, simple(K::kError, "UNCERTAIN")), T::kInfo);
  EXPECT_EQ(outcome(lin::Fn::kCas, simple(K::kInteger)), T::kInfo);  // nonsense: unknown
}

TEST(Nft, RulesetsBlockOnlyTheGrudgedPeers) {
  std::string drop = nft_ruleset({"10.77.0.2", "10.77.0.3"}, PartitionMode::kDrop);
  EXPECT_NE(drop.find("delete table inet maelstrom_runner"), std::string::npos);
  EXPECT_NE(drop.find("ip saddr { 10.77.0.2, 10.77.0.3 } drop"), std::string::npos) << drop;
  EXPECT_EQ(drop.find("reject"), std::string::npos);
  std::string reject = nft_ruleset({"10.77.0.2"}, PartitionMode::kReject);
  EXPECT_NE(reject.find("reject with tcp reset"), std::string::npos) << reject;
  EXPECT_LT(reject.find("rst == rst accept"), reject.find("reject with tcp reset"));
  std::string heal = nft_ruleset({}, PartitionMode::kDrop);
  EXPECT_EQ(heal.find("chain"), std::string::npos) << heal;
}

Options netns_options(std::vector<std::string> extra) {
  std::vector<std::string> args{"--bin", "/bin/true", "--node-count", "3", "--net", "netns"};
  args.insert(args.end(), extra.begin(), extra.end());
  std::string err;
  auto o = parse_test_args(args, &err);
  if (!o) ADD_FAILURE() << err;
  return o.value_or(Options{});
}

TEST(NetnsCli, ParsesAndRefusesLatency) {
  if (geteuid() != 0) GTEST_SKIP() << "--net netns needs root";
  Options o = netns_options({"--partition-mode", "reject", "--peer", "redis"});
  EXPECT_EQ(o.net.mode, NetMode::kNetns);
  EXPECT_EQ(o.net.partition, PartitionMode::kReject);
  EXPECT_EQ(o.net.cas, CasStyle::kEval);  // Redis 7 has no IFEQ
  std::string err;
  EXPECT_FALSE(parse_test_args({"--bin", "/bin/true", "--net", "netns", "--latency", "10"}, &err));
  EXPECT_NE(err.find("netem"), std::string::npos) << err;
  EXPECT_FALSE(parse_test_args({"--bin", "/bin/true", "--partition-mode", "x"}, &err));
}

TEST(NetnsCli, ServerCommandLines) {
  Options o;
  o.bin = "/b/raftkv";
  o.nodes = {"n0", "n1", "n2"};
  o.args = {"--election-timeout-ms", "300"};
  std::vector<std::string> addrs{"10.77.0.1", "10.77.0.2", "10.77.0.3"};
  auto a = NetnsMode::server_command(o, 1, addrs);
  std::vector<std::string> want{"/b/raftkv",
                                "serve",
                                "--id",
                                "n1",
                                "--peers",
                                "n0=10.77.0.1:7001,n1=10.77.0.2:7001,n2=10.77.0.3:7001",
                                "--client",
                                "10.77.0.2:6379",
                                "--data-dir",
                                ".",
                                "--election-timeout-ms",
                                "300"};
  EXPECT_EQ(a, want);
  o.net.peer = Peer::kRedisRaw;
  o.bin = "/usr/bin/redis-server";
  o.args = {"--appendfsync", "no"};
  a = NetnsMode::server_command(o, 0, addrs);
  EXPECT_EQ(a[0], "/usr/bin/redis-server");
  EXPECT_EQ(a[1], "--bind");
  EXPECT_EQ(a[2], "10.77.0.1");
  EXPECT_EQ(a[a.size() - 1], "no");  // the user's setting comes last and wins
  o.net.peer = Peer::kRedis;         // through a shell that makes appendonlydir durable first
  a = NetnsMode::server_command(o, 0, addrs);
  EXPECT_EQ(a[0], "/bin/sh");
  EXPECT_EQ(a[3], "/usr/bin/redis-server");
  EXPECT_EQ(a[4], "--bind");
}

// A RESP server on 127.0.0.1 run by the test's event loop: answers each
// command with the next scripted action.
class FakeServer {
 public:
  // An action gets the command bytes and returns the reply; nullopt closes
  // the connection without replying; "" sends nothing (a hung server).
  using Action = std::function<std::optional<std::string>()>;

  explicit FakeServer(EventLoop& loop) : loop_(loop) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listen_fd_, 16);
    socklen_t len = sizeof addr_;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr_), &len);
    loop_.watch(listen_fd_, POLLIN, [this](short) { accept_one(); });
  }
  ~FakeServer() {
    for (int fd : fds_) {
      loop_.unwatch(fd);
      close(fd);
    }
    loop_.unwatch(listen_fd_);
    close(listen_fd_);
  }
  sockaddr_in addr() const { return addr_; }
  void script(Action a) { actions_.push_back(std::move(a)); }
  int accepted() const { return accepted_; }

 private:
  void accept_one() {
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK);
    if (fd < 0) return;
    ++accepted_;
    fds_.push_back(fd);
    loop_.watch(fd, POLLIN, [this, fd](short) { on_data(fd); });
  }
  void on_data(int fd) {
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0 || actions_.empty()) {
      drop(fd);
      return;
    }
    auto action = actions_.front();
    actions_.erase(actions_.begin());
    auto reply = action();
    if (!reply) {
      drop(fd);
      return;
    }
    if (!reply->empty()) (void)!write(fd, reply->data(), reply->size());
  }
  void drop(int fd) {
    loop_.unwatch(fd);
    close(fd);
    std::erase(fds_, fd);
  }
  EventLoop& loop_;
  int listen_fd_ = -1;
  sockaddr_in addr_{};
  std::vector<int> fds_;
  std::vector<Action> actions_;
  int accepted_ = 0;
};

struct TransportRig {
  EventLoop loop;
  std::mt19937_64 rng{1};
  Problems problems;
  Network net{loop, rng, 0, LatencyDist::kConstant, problems};
  FakeServer server{loop};
  std::unique_ptr<TcpTransport> transport;
  Client client{loop, net, "c0"};

  explicit TransportRig(std::optional<sockaddr_in> addr = std::nullopt) {
    std::map<std::string, sockaddr_in> servers{{"n0", addr.value_or(server.addr())}};
    transport = std::make_unique<TcpTransport>(
        loop, net, problems,
        [] { return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0); }, servers,
        CasStyle::kIfeq);
    net.set_client_transport([this](Message m) { transport->send(std::move(m)); });
  }
  // Runs one op to its end; returns its outcome.
  Outcome run(const OpSpec& op, int64_t timeout = 500 * kMs) {
    std::optional<Outcome> out;
    client.rpc("n0", request_body(op), timeout,
               [&](const std::optional<Message>& reply) { out = classify(op, reply); });
    loop.run_until([&] { return out.has_value(); });
    return *out;
  }
};

OpSpec op(lin::Fn f, nlohmann::json value = nullptr) {
  OpSpec o;
  o.f = f;
  o.key = 0;
  o.value = std::move(value);
  return o;
}

TEST(TcpTransport, RepliesBecomeOutcomes) {
  TransportRig rig;
  rig.server.script([] { return std::string("+OK\r\n"); });
  rig.server.script([] { return std::string("$1\r\n4\r\n"); });
  EXPECT_EQ(rig.run(op(lin::Fn::kWrite, 4)).type, lin::EventType::kOk);
  Outcome r = rig.run(op(lin::Fn::kRead));
  EXPECT_EQ(r.type, lin::EventType::kOk);
  EXPECT_EQ(r.value, 4);
  EXPECT_EQ(rig.server.accepted(), 1);  // one connection for both
  EXPECT_EQ(rig.transport->counters().reconnects, 0);
}

TEST(TcpTransport, RefusedConnectionIsADefiniteFailure) {
  // A port nobody listens on: bind one, then close it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  TransportRig rig(a);
  Outcome o = rig.run(op(lin::Fn::kWrite, 1));
  EXPECT_EQ(o.type, lin::EventType::kFail) << o.error;
  EXPECT_EQ(rig.transport->counters().connect_failures, 1);
  rig.run(op(lin::Fn::kWrite, 1));  // after the back-off, tried again
  EXPECT_EQ(rig.transport->counters().reconnects, 1);
}

TEST(TcpTransport, ConnectionLostAfterSendingIsIndefinite) {
  TransportRig rig;
  rig.server.script([] { return std::nullopt; });  // read the request, then close
  rig.server.script([] { return std::nullopt; });
  rig.server.script([] { return std::string("+OK\r\n"); });
  EXPECT_EQ(rig.run(op(lin::Fn::kWrite, 1)).type, lin::EventType::kInfo);
  EXPECT_EQ(rig.run(op(lin::Fn::kRead)).type, lin::EventType::kFail);  // reads never info
  EXPECT_EQ(rig.run(op(lin::Fn::kCas, {1, 2})).type, lin::EventType::kOk);
  EXPECT_EQ(rig.server.accepted(), 3);
  EXPECT_EQ(rig.transport->counters().reconnects, 2);
  EXPECT_EQ(rig.transport->counters().closed_by_server, 2);
}

TEST(TcpTransport, TimedOutRequestIsAbandonedWithItsConnection) {
  TransportRig rig;
  rig.server.script([] { return std::string(); });  // never answers
  rig.server.script([] { return std::string("+OK\r\n"); });
  EXPECT_EQ(rig.run(op(lin::Fn::kWrite, 1), 100 * kMs).type, lin::EventType::kInfo);
  // The next request must not queue behind the unanswered one.
  EXPECT_EQ(rig.run(op(lin::Fn::kWrite, 2)).type, lin::EventType::kOk);
  EXPECT_EQ(rig.transport->counters().abandoned, 1);
  EXPECT_EQ(rig.server.accepted(), 2);
}

}  // namespace
}  // namespace runner

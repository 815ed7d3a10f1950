#include "net/peer_transport.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "test_util.h"

namespace raftkv::net {
namespace {

using server::PeerMessage;
using testing::closed_by_server;
using testing::connect_client;
using testing::now_ms;
using testing::write_all;

struct Received {
  raft::NodeId from;
  PeerMessage message;
};

raft::Message heartbeat(const raft::NodeId& from, const raft::NodeId& to, uint64_t n) {
  raft::Message m;
  m.type = raft::MsgType::kHeartbeat;
  m.from = from;
  m.to = to;
  m.term = 1;
  m.context = n;
  return m;
}

// Three transports on one loop, on ephemeral ports.
class Cluster {
 public:
  explicit Cluster(TransportOptions options = {}) : options_(std::move(options)) {
    options_.seed = 1;
    options_.log = [this](std::string_view line) { log.emplace_back(line); };
    for (const char* id : {"n1", "n2", "n3"}) start(id);
    for (const auto& [id, t] : nodes) {
      for (const auto& [other, port] : ports) t->set_peer_address(other, {"127.0.0.1", port});
    }
  }

  // (Re)creates a node, on its old port if it had one.
  void start(const raft::NodeId& id) {
    std::map<raft::NodeId, PeerAddress> peers;
    for (const char* p : {"n1", "n2", "n3"}) peers[p] = {"127.0.0.1", ports[p]};
    auto t = std::make_unique<PeerTransport>(loop, id, peers, options_,
                                             [this, id](const raft::NodeId& from, PeerMessage m) {
                                               inbox[id].push_back({from, std::move(m)});
                                             });
    t->listen();
    ports[id] = t->listen_port();
    nodes[id] = std::move(t);
  }
  void stop(const raft::NodeId& id) { nodes.erase(id); }

  bool run_until(const std::function<bool()>& done, int timeout_ms = 3000) {
    return testing::run_until(loop, done, timeout_ms, [this](int64_t now) {
      for (auto& [id, t] : nodes) {
        t->tick(now);
        t->flush();
      }
    });
  }
  PeerStats stats(const raft::NodeId& of, const raft::NodeId& peer) {
    return nodes.at(of)->stats().at(peer);
  }

  EventLoop loop;
  std::map<raft::NodeId, std::unique_ptr<PeerTransport>> nodes;
  std::map<raft::NodeId, uint16_t> ports;
  std::map<raft::NodeId, std::vector<Received>> inbox;
  std::vector<std::string> log;

 private:
  TransportOptions options_;
};

TEST(PeerTransport, EveryMessageKindArrivesInOrderFromTheRightPeer) {
  Cluster c;
  server::ForwardRequest req{7, {}};
  req.request.op = server::ClientRequest::Op::kCas;
  req.request.key = "k";
  req.request.value = "new";
  req.request.from = "old";
  req.request.create_if_not_exists = true;
  server::ForwardReply rep{7, {server::ReplyCode::kPreconditionFailed, "cur", "differs"}};
  c.nodes["n1"]->send("n2", heartbeat("n1", "n2", 1));
  c.nodes["n1"]->send("n2", req);
  c.nodes["n3"]->send("n2", rep);
  c.nodes["n2"]->send("n1", heartbeat("n2", "n1", 2));
  ASSERT_TRUE(c.run_until([&] { return c.inbox["n2"].size() == 3 && c.inbox["n1"].size() == 1; }));
  std::vector<Received> from_n1;
  for (auto& r : c.inbox["n2"]) {
    if (r.from == "n1") from_n1.push_back(r);
  }
  ASSERT_EQ(from_n1.size(), 2u);
  EXPECT_EQ(std::get<raft::Message>(from_n1[0].message), heartbeat("n1", "n2", 1));
  const auto& got_req = std::get<server::ForwardRequest>(from_n1[1].message);
  EXPECT_EQ(got_req.id, 7u);
  EXPECT_EQ(got_req.request.from, "old");
  EXPECT_TRUE(got_req.request.create_if_not_exists);
  EXPECT_EQ(c.inbox["n1"][0].from, "n2");
  EXPECT_EQ(c.stats("n1", "n2").sent, 2u);
  EXPECT_EQ(c.stats("n2", "n1").received, 2u);
  EXPECT_TRUE(c.stats("n1", "n2").connected);
  EXPECT_TRUE(c.stats("n2", "n1").inbound_connected);
  EXPECT_TRUE(c.log.empty()) << c.log.front();
}

TEST(PeerTransport, LargeEntryBatchesAndAOneMebibyteSnapshotChunkArriveIntact) {
  Cluster c;
  raft::Message append = heartbeat("n1", "n2", 0);
  append.type = raft::MsgType::kAppend;
  for (uint64_t i = 1; i <= 20000; ++i) {
    append.entries.push_back({3, i, raft::EntryType::kNormal, std::string(100, 'a' + i % 26)});
  }
  raft::Message chunk = heartbeat("n1", "n2", 0);
  chunk.type = raft::MsgType::kSnapshotChunk;
  chunk.data.resize(1 << 20);
  for (size_t i = 0; i < chunk.data.size(); ++i) chunk.data[i] = static_cast<char>(i * 7);
  chunk.last = true;
  for (int i = 0; i < 3; ++i) c.nodes["n1"]->send("n2", append);
  c.nodes["n1"]->send("n2", chunk);
  for (uint64_t i = 0; i < 1000; ++i) c.nodes["n1"]->send("n2", heartbeat("n1", "n2", i));
  ASSERT_TRUE(c.run_until([&] { return c.inbox["n2"].size() == 1004; }));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(std::get<raft::Message>(c.inbox["n2"][i].message), append);
  EXPECT_EQ(std::get<raft::Message>(c.inbox["n2"][3].message), chunk);
  for (uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(std::get<raft::Message>(c.inbox["n2"][4 + i].message).context, i);
  }
  EXPECT_EQ(c.stats("n1", "n2").dropped, 0u);
  EXPECT_EQ(c.stats("n1", "n2").queued_bytes, 0u);
}

TEST(PeerTransport, APeerThatDiesIsRedialledWithBackoffWhenItComesBack) {
  Cluster c;
  c.nodes["n1"]->send("n2", heartbeat("n1", "n2", 1));
  ASSERT_TRUE(c.run_until([&] { return c.inbox["n2"].size() == 1; }));
  c.stop("n2");
  // n1 keeps sending (as Raft would) while n2 is down.
  uint64_t n = 2;
  int64_t until = now_ms() + 300;
  c.run_until([&] {
    c.nodes["n1"]->send("n2", heartbeat("n1", "n2", n++));
    return now_ms() > until;
  });
  PeerStats down = c.stats("n1", "n2");
  EXPECT_FALSE(down.connected);
  EXPECT_GE(down.connect_failures, 2u);
  EXPECT_LE(down.connect_failures, 10u) << "backoff does not back off";
  EXPECT_GT(down.dropped, 0u);
  c.inbox["n2"].clear();
  c.start("n2");  // same port
  ASSERT_TRUE(c.run_until([&] {
    c.nodes["n1"]->send("n2", heartbeat("n1", "n2", n++));
    return !c.inbox["n2"].empty();
  }));
  EXPECT_EQ(c.stats("n1", "n2").reconnects, 1u);
  EXPECT_TRUE(c.stats("n1", "n2").connected);
  // Order holds on the new connection.
  uint64_t last = 0;
  for (auto& r : c.inbox["n2"]) {
    uint64_t ctx = std::get<raft::Message>(r.message).context;
    EXPECT_GT(ctx, last);
    last = ctx;
  }
}

TEST(PeerTransport, AFullQueueDropsTheNewestMessagesAndCountsThem) {
  TransportOptions options;
  options.max_queue_bytes = 16 << 10;
  Cluster c(options);
  raft::Message m = heartbeat("n1", "n2", 0);
  m.data = std::string(1000, 'd');
  // Without a loop turn nothing drains: the queue fills and overflows.
  for (uint64_t i = 0; i < 100; ++i) {
    m.context = i;
    c.nodes["n1"]->send("n2", m);
  }
  PeerStats s = c.stats("n1", "n2");
  EXPECT_GT(s.dropped, 0u);
  EXPECT_EQ(s.dropped + s.queued_messages, 100u);
  EXPECT_LE(s.queued_bytes, options.max_queue_bytes);
  uint64_t queued = s.queued_messages;
  ASSERT_TRUE(c.run_until([&] { return c.inbox["n2"].size() == queued; }));
  for (uint64_t i = 0; i < queued; ++i) {  // the oldest ones made it
    EXPECT_EQ(std::get<raft::Message>(c.inbox["n2"][i].message).context, i);
  }
  EXPECT_EQ(c.stats("n1", "n2").sent, queued);
}

TEST(PeerTransport, BadConnectionsAreClosedAloneAndTheRestKeepsWorking) {
  TransportOptions options;
  options.max_frame_bytes = 1 << 20;
  Cluster c(options);
  c.nodes["n1"]->send("n2", heartbeat("n1", "n2", 1));
  ASSERT_TRUE(c.run_until([&] { return c.inbox["n2"].size() == 1; }));
  uint16_t port = c.ports["n2"];
  auto hello = [](const char* from, const char* to) {
    std::string s;
    wire::append_hello_frame({from, to}, s);
    return s;
  };
  std::string undecodable = hello("n3", "n2") + std::string("\x03\x00\x00\x00\x01\x09\x00", 7);
  std::string oversized = hello("n3", "n2") + std::string("\x01\x00\x20\x00", 4);  // 2 MiB
  raft::Message spoofed = heartbeat("n1", "n2", 9);
  std::string spoof = hello("n3", "n2");
  wire::append_frame(spoofed, spoof);
  std::vector<std::string> attacks = {std::string("GET /metrics HTTP/1.1\r\n\r\n"),
                                      hello("n1", "n9"),
                                      hello("stranger", "n2"),
                                      hello("n2", "n2"),
                                      undecodable,
                                      oversized,
                                      spoof};
  for (const std::string& bytes : attacks) {
    Fd s = connect_client(port);
    write_all(s.get(), bytes);
    EXPECT_TRUE(closed_by_server(c.loop, s.get())) << bytes;
  }
  EXPECT_EQ(c.nodes["n2"]->rejected_connections(), attacks.size());
  size_t rejections = 0;  // n3's real connection, replaced by the impostors, adds its own lines
  for (const std::string& line : c.log) rejections += line.find("closed: ") != std::string::npos;
  EXPECT_EQ(rejections, attacks.size());
  c.nodes["n1"]->send("n2", heartbeat("n1", "n2", 2));
  ASSERT_TRUE(c.run_until([&] { return c.inbox["n2"].size() == 2; }));
  EXPECT_EQ(c.inbox["n2"].size(), 2u) << "nothing from the attackers was delivered";
}

TEST(PeerTransport, HalfAFrameThenGoneFreesTheConnection) {
  Cluster c;
  c.nodes["n1"]->send("n2", heartbeat("n1", "n2", 1));
  ASSERT_TRUE(c.run_until([&] { return c.inbox["n2"].size() == 1; }));
  size_t before = c.nodes["n2"]->inbound_connections();
  {
    Fd s = connect_client(c.ports["n2"]);
    std::string bytes;
    wire::append_hello_frame({"n3", "n2"}, bytes);
    std::string frame;
    wire::append_frame(heartbeat("n3", "n2", 5), frame);
    bytes += frame.substr(0, frame.size() / 2);
    write_all(s.get(), bytes);
    ASSERT_TRUE(c.run_until([&] { return c.stats("n2", "n3").inbound_connected; }));
  }
  ASSERT_TRUE(c.run_until([&] { return c.nodes["n2"]->inbound_connections() == before; }));
  EXPECT_EQ(c.inbox["n2"].size(), 1u);
}

TEST(PeerTransport, AConnectionWithoutHelloTimesOut) {
  TransportOptions options;
  options.hello_timeout_ms = 100;
  Cluster c(options);
  Fd s = connect_client(c.ports["n2"]);
  EXPECT_TRUE(c.run_until([&] {
    std::string ignored;
    return !testing::read_available(s.get(), &ignored);
  }));
  EXPECT_EQ(c.nodes["n2"]->rejected_connections(), 1u);
}

TEST(PeerTransport, ListenFailureNamesTheNodeAndAddress) {
  Cluster c;
  EventLoop loop;
  PeerTransport dup(loop, "n1", {{"n1", {"127.0.0.1", c.ports["n1"]}}}, {},
                    [](const raft::NodeId&, PeerMessage) {});
  try {
    dup.listen();
    FAIL() << "listen succeeded on a busy port";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("n1"), std::string::npos) << what;
    EXPECT_NE(what.find("127.0.0.1:" + std::to_string(c.ports["n1"])), std::string::npos) << what;
  }
  EXPECT_THROW(PeerTransport(loop, "n4", {{"n1", {"127.0.0.1", 1}}}, {},
                             [](const raft::NodeId&, PeerMessage) {}),
               std::invalid_argument);
}

TEST(PeerTransport, SendToItselfOrAStrangerIsDroppedWithALogLine) {
  Cluster c;
  c.nodes["n1"]->send("n1", heartbeat("n1", "n1", 1));
  c.nodes["n1"]->send("n7", heartbeat("n1", "n7", 1));
  EXPECT_EQ(c.log.size(), 2u);
}

}  // namespace
}  // namespace raftkv::net

namespace raftkv::net {
namespace {

TEST(PeerTransport, AMessageOverTheFrameLimitIsDroppedAndTheNextOneStillGoes) {
  TransportOptions options;
  options.max_frame_bytes = 4096;
  Cluster c(options);
  raft::Message big = heartbeat("n1", "n2", 1);
  big.data = std::string(5000, 'b');
  c.nodes["n1"]->send("n2", big);
  c.nodes["n1"]->send("n2", heartbeat("n1", "n2", 2));
  ASSERT_TRUE(c.run_until([&] { return c.inbox["n2"].size() == 1; }));
  EXPECT_EQ(std::get<raft::Message>(c.inbox["n2"][0].message).context, 2u);
  EXPECT_EQ(c.stats("n1", "n2").dropped, 1u);
  ASSERT_EQ(c.log.size(), 1u);
  EXPECT_NE(c.log[0].find("exceeds the frame limit"), std::string::npos) << c.log[0];
}

}  // namespace
}  // namespace raftkv::net

namespace raftkv::net {
namespace {

// Membership changes: n4 knows n1, n1 does not know n4 until add_peer, and
// forgets it again with remove_peer.
TEST(PeerTransport, PeersComeAndGoAtRunTime) {
  Cluster c;
  std::vector<Received> n4_inbox;
  TransportOptions options;
  options.seed = 1;
  options.backoff_max_ms = 200;
  options.log = [&](std::string_view line) { c.log.emplace_back(line); };
  auto n4 = std::make_unique<PeerTransport>(
      c.loop, "n4",
      std::map<raft::NodeId, PeerAddress>{{"n1", {"127.0.0.1", c.ports["n1"]}},
                                          {"n4", {"127.0.0.1", 0}}},
      options, [&](const raft::NodeId& from, PeerMessage m) {
        n4_inbox.push_back({from, std::move(m)});
      });
  n4->listen();
  auto turn = [&](const std::function<bool()>& done) {
    return c.run_until([&] {
      n4->tick(now_ms());
      n4->flush();
      return done();
    });
  };
  // A stranger's hello is refused (and logged once, however often it dials).
  uint64_t refused_before = c.nodes["n1"]->rejected_connections();
  n4->send("n1", heartbeat("n4", "n1", 1));
  ASSERT_TRUE(turn([&] { return c.nodes["n1"]->rejected_connections() >= refused_before + 2; }));
  EXPECT_TRUE(c.inbox["n1"].empty());
  size_t stranger_lines = 0;
  for (const std::string& line : c.log)
    stranger_lines += line.find("unknown node n4") != std::string::npos;
  EXPECT_EQ(stranger_lines, 1u);

  c.nodes["n1"]->add_peer("n4", {"127.0.0.1", n4->listen_port()});
  EXPECT_TRUE(c.nodes["n1"]->has_peer("n4"));
  c.nodes["n1"]->send("n4", heartbeat("n1", "n4", 2));
  ASSERT_TRUE(turn([&] { return !n4_inbox.empty(); }));
  EXPECT_EQ(n4_inbox[0].from, "n1");
  n4->send("n1", heartbeat("n4", "n1", 3));
  ASSERT_TRUE(turn([&] { return !c.inbox["n1"].empty(); }));
  EXPECT_EQ(c.inbox["n1"].back().from, "n4");

  c.nodes["n1"]->remove_peer("n4");
  EXPECT_FALSE(c.nodes["n1"]->has_peer("n4"));
  EXPECT_FALSE(c.nodes["n1"]->stats().count("n4"));
  ASSERT_TRUE(turn([&] { return !n4->stats().at("n1").connected; }));  // its link was closed
  size_t got = c.inbox["n1"].size();
  n4->send("n1", heartbeat("n4", "n1", 4));
  ASSERT_TRUE(turn([&] { return c.nodes["n1"]->rejected_connections() >= refused_before + 3; }));
  EXPECT_EQ(c.inbox["n1"].size(), got);
}

}  // namespace
}  // namespace raftkv::net

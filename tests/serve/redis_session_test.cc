// A Redis connection's commands take effect in the order they were sent,
// and their replies leave in that order, however the core answers.
#include "serve/redis_session.h"

#include <gtest/gtest.h>

#include <functional>

#include "resp/encode.h"

namespace raftkv::serve {
namespace {

using server::ClientReply;
using server::ClientRequest;
using server::ReplyCode;
using Op = ClientRequest::Op;

using server::AdminRequest;

struct Submitted {
  uint64_t seq;
  ClientRequest request;
};
struct SubmittedAdmin {
  uint64_t seq;
  AdminRequest request;
};

class FakeHost final : public SessionHost {
 public:
  void submit(uint64_t, uint64_t seq, ClientRequest request) override {
    submitted.push_back({seq, request});
    if (answer_at_once) answer_at_once(seq, request);
  }
  void submit_admin(uint64_t, uint64_t seq, AdminRequest request) override {
    admin.push_back({seq, request});
  }
  void append_info(std::string& out, const resp::Info&) override {
    resp::append_bulk(out, "# Raft\r\nrole:leader\r\n");
  }
  bool is_leader() const override { return true; }
  std::vector<std::string> members() const override { return {"n1 127.0.0.1:1 leader"}; }

  std::vector<Submitted> submitted;
  std::vector<SubmittedAdmin> admin;
  std::function<void(uint64_t, const ClientRequest&)> answer_at_once;
};

std::string command(std::initializer_list<std::string_view> args) {
  std::string out;
  resp::append_bulk_array(out, args);
  return out;
}

ClientReply ok(std::optional<std::string> value = std::nullopt, int64_t number = 0) {
  return ClientReply{ReplyCode::kOk, std::move(value), {}, number};
}

class SessionTest : public ::testing::Test {
 protected:
  FakeHost host_;
  RedisSession session_{7, host_, resp::ParseLimits{}};
};

TEST_F(SessionTest, AReadWaitsForTheWritesBeforeIt) {
  session_.feed(command({"SET", "a", "1"}) + command({"GET", "a"}) + command({"SET", "a", "2"}));
  ASSERT_EQ(host_.submitted.size(), 1u);  // GET must not overtake the SET
  EXPECT_EQ(host_.submitted[0].request.op, Op::kSet);
  session_.on_reply(host_.submitted[0].seq, ok(std::nullopt, 1));
  ASSERT_EQ(host_.submitted.size(), 2u);
  EXPECT_EQ(host_.submitted[1].request.op, Op::kRead);
  EXPECT_EQ(session_.take_output(), "+OK\r\n");
  session_.on_reply(host_.submitted[1].seq, ok("1"));
  ASSERT_EQ(host_.submitted.size(), 3u);  // and the second SET waited for the GET
  session_.on_reply(host_.submitted[2].seq, ok(std::nullopt, 1));
  EXPECT_EQ(session_.take_output(), "$1\r\n1\r\n+OK\r\n");
}

TEST_F(SessionTest, WritesPipelineAndSoDoReads) {
  session_.feed(command({"SET", "a", "1"}) + command({"INCR", "n"}) + command({"DEL", "x", "y"}));
  EXPECT_EQ(host_.submitted.size(), 3u);
  session_.feed(command({"GET", "a"}) + command({"EXISTS", "a", "n"}));
  EXPECT_EQ(host_.submitted.size(), 3u);  // reads wait for the writes in flight
  for (size_t i = 0; i < 3; ++i) session_.on_reply(host_.submitted[i].seq, ok(std::nullopt, 1));
  EXPECT_EQ(host_.submitted.size(), 5u);  // then both reads go at once
}

TEST_F(SessionTest, RepliesLeaveInCommandOrderWhateverTheAnswerOrder) {
  session_.feed(command({"GET", "a"}) + command({"PING"}) + command({"GET", "b"}));
  ASSERT_EQ(host_.submitted.size(), 2u);
  session_.on_reply(host_.submitted[1].seq, ok("B"));
  EXPECT_EQ(session_.take_output(), "");  // the first GET is still unanswered
  session_.on_reply(host_.submitted[0].seq, ClientReply{ReplyCode::kKeyDoesNotExist, {}, "x"});
  EXPECT_EQ(session_.take_output(), "$-1\r\n+PONG\r\n$1\r\nB\r\n");
  EXPECT_EQ(session_.unanswered(), 0u);
}

TEST_F(SessionTest, AnAnswerGivenDuringSubmitStillKeepsTheOrder) {
  host_.answer_at_once = [this](uint64_t seq, const ClientRequest& r) {
    session_.on_reply(seq, r.op == Op::kRead ? ok("v") : ok(std::nullopt, 1));
  };
  session_.feed(command({"SET", "a", "v"}) + command({"GET", "a"}) + command({"SET", "b", "w"}) +
                command({"GET", "b"}));
  EXPECT_EQ(host_.submitted.size(), 4u);
  EXPECT_EQ(session_.take_output(), "+OK\r\n$1\r\nv\r\n+OK\r\n$1\r\nv\r\n");
}

TEST_F(SessionTest, StoreRepliesTakeEachCommandsShape) {
  session_.feed(command({"SET", "k", "v", "NX"}) + command({"SET", "k", "v", "GET"}) +
                command({"DEL", "k"}) + command({"INCRBY", "k", "x"}) + command({"INCR", "s"}));
  ASSERT_EQ(host_.submitted.size(), 4u);  // INCRBY k x is refused at parse
  EXPECT_EQ(host_.submitted[0].request.condition, ClientRequest::Condition::kIfAbsent);
  EXPECT_TRUE(host_.submitted[1].request.return_old);
  session_.on_reply(host_.submitted[0].seq, ok(std::nullopt, 0));  // NX lost: nil
  session_.on_reply(host_.submitted[1].seq, ok("old", 1));
  session_.on_reply(host_.submitted[2].seq, ok(std::nullopt, 1));
  session_.on_reply(host_.submitted[3].seq,
                    ClientReply{ReplyCode::kNotAnInteger, {}, "value is not an integer"});
  EXPECT_EQ(session_.take_output(),
            "$-1\r\n$3\r\nold\r\n:1\r\n-ERR value is not an integer or out of range\r\n"
            "-ERR value is not an integer\r\n");
}

TEST_F(SessionTest, FailuresSayWhetherTheCommandMayStillHappen) {
  session_.feed(command({"SET", "a", "1"}) + command({"SET", "b", "2"}));
  session_.on_reply(host_.submitted[0].seq,
                    ClientReply{ReplyCode::kUnavailable, {}, "no leader known; try again"});
  session_.on_reply(host_.submitted[1].seq,
                    ClientReply{ReplyCode::kIndefinite, {}, "not committed in time"});
  EXPECT_EQ(session_.take_output(),
            "-TRYAGAIN no leader known; try again\r\n-UNCERTAIN not committed in time\r\n");
}

TEST_F(SessionTest, QuitAnswersWhatCameBeforeAndIgnoresTheRest) {
  session_.feed(command({"SET", "a", "1"}) + command({"QUIT"}) + command({"SET", "b", "2"}));
  ASSERT_EQ(host_.submitted.size(), 1u);
  EXPECT_FALSE(session_.closing());
  session_.on_reply(host_.submitted[0].seq, ok(std::nullopt, 1));
  EXPECT_EQ(session_.take_output(), "+OK\r\n+OK\r\n");
  EXPECT_TRUE(session_.closing());
  session_.feed(command({"SET", "c", "3"}));
  EXPECT_EQ(host_.submitted.size(), 1u);
}

TEST_F(SessionTest, AProtocolErrorComesAfterTheCommandsBeforeIt) {
  session_.feed(command({"PING"}) + "*1\r\n$-5\r\n" + command({"PING"}));
  std::string out = session_.take_output();
  EXPECT_EQ(out.substr(0, 7), "+PONG\r\n");
  EXPECT_EQ(out.substr(7, 20), "-ERR Protocol error:");
  EXPECT_TRUE(session_.closing());
  EXPECT_TRUE(host_.submitted.empty());
}

TEST_F(SessionTest, UnknownCommandsAndWrongArityLeaveTheConnectionUsable) {
  session_.feed(command({"FLUSHALL"}) + command({"GET"}) + "PING\r\n");
  std::string out = session_.take_output();
  EXPECT_NE(out.find("-ERR unknown command 'FLUSHALL'"), std::string::npos) << out;
  EXPECT_NE(out.find("-ERR wrong number of arguments for 'get' command"), std::string::npos);
  EXPECT_NE(out.find("+PONG\r\n"), std::string::npos);
  EXPECT_FALSE(session_.closing());
}

TEST_F(SessionTest, ALateOrDuplicateAnswerIsIgnored) {
  session_.feed(command({"GET", "a"}));
  uint64_t seq = host_.submitted[0].seq;
  session_.on_reply(seq, ok("1"));
  session_.on_reply(seq, ok("2"));
  session_.on_reply(seq + 100, ok("3"));
  EXPECT_EQ(session_.take_output(), "$1\r\n1\r\n");
  session_.on_reply(seq, ok("4"));  // after its slot left
  EXPECT_EQ(session_.take_output(), "");
}

TEST_F(SessionTest, AHalfClosedClientIsAnsweredBeforeTheConnectionCloses) {
  session_.feed(command({"SET", "k", "v"}) + command({"PING"}));
  session_.end_of_input();
  EXPECT_FALSE(session_.finished());  // the SET is still owed
  session_.feed(command({"SET", "late", "x"}));
  EXPECT_EQ(host_.submitted.size(), 1u);  // nothing after EOF is read
  session_.on_reply(host_.submitted[0].seq, ok(std::nullopt, 1));
  EXPECT_EQ(session_.take_output(), "+OK\r\n+PONG\r\n");
  EXPECT_TRUE(session_.finished());
}

TEST_F(SessionTest, AdminCommandsBecomeCoreRequests) {
  session_.feed(command({"RAFT.MEMBER", "ADD", "n4", "127.0.0.1:7004", "LEARNER"}) +
                command({"raft.member", "add", "n5", "127.0.0.1:7005"}) +
                command({"RAFT.MEMBER", "PROMOTE", "n4"}) +
                command({"RAFT.MEMBER", "REMOVE", "n1"}) + command({"RAFT.TRANSFER", "n3"}));
  ASSERT_EQ(host_.admin.size(), 5u);  // admin commands pipeline like writes
  EXPECT_EQ(host_.admin[0].request.op, AdminRequest::Op::kAddLearner);
  EXPECT_EQ(host_.admin[0].request.node, "n4");
  EXPECT_EQ(host_.admin[0].request.address, "127.0.0.1:7004");
  EXPECT_EQ(host_.admin[1].request.op, AdminRequest::Op::kAddVoter);  // VOTER by default
  EXPECT_EQ(host_.admin[2].request.op, AdminRequest::Op::kPromote);
  EXPECT_EQ(host_.admin[3].request.op, AdminRequest::Op::kRemove);
  EXPECT_EQ(host_.admin[3].request.node, "n1");
  EXPECT_EQ(host_.admin[4].request.op, AdminRequest::Op::kTransferLeader);
  EXPECT_EQ(host_.admin[4].request.node, "n3");
  EXPECT_TRUE(host_.admin[4].request.address.empty());
  EXPECT_TRUE(host_.submitted.empty());
}

TEST_F(SessionTest, AdminRepliesMapOntoRedisErrors) {
  session_.feed(command({"RAFT.MEMBER", "ADD", "n4", "127.0.0.1:7004", "LEARNER"}) +
                command({"RAFT.MEMBER", "PROMOTE", "n2"}) + command({"RAFT.TRANSFER", "n3"}) +
                command({"RAFT.MEMBER", "REMOVE", "n9"}) +
                command({"RAFT.MEMBER", "REMOVE", "n2"}));
  ASSERT_EQ(host_.admin.size(), 5u);
  session_.on_reply(host_.admin[0].seq, ok());
  session_.on_reply(host_.admin[1].seq,
                    ClientReply{ReplyCode::kPreconditionFailed, {}, "n2 is already a voter"});
  session_.on_reply(host_.admin[2].seq,
                    ClientReply{ReplyCode::kUnavailable, {}, "not the leader; the leader is n1"});
  session_.on_reply(host_.admin[3].seq,
                    ClientReply{ReplyCode::kPreconditionFailed, {}, "n9 is not a member"});
  session_.on_reply(host_.admin[4].seq, ClientReply{ReplyCode::kIndefinite, {}, "timed out"});
  EXPECT_EQ(session_.take_output(),
            "+OK\r\n-ERR n2 is already a voter\r\n-TRYAGAIN not the leader; the leader is n1\r\n"
            "-ERR n9 is not a member\r\n-UNCERTAIN timed out\r\n");
}

TEST_F(SessionTest, AdminCommandsOrderAsWrites) {
  session_.feed(command({"GET", "a"}) + command({"RAFT.TRANSFER", "n2"}) + command({"GET", "a"}));
  ASSERT_EQ(host_.submitted.size(), 1u);
  EXPECT_TRUE(host_.admin.empty());  // waits for the read in flight
  session_.on_reply(host_.submitted[0].seq, ok("1"));
  ASSERT_EQ(host_.admin.size(), 1u);
  EXPECT_EQ(host_.submitted.size(), 1u);  // the second GET waits for the transfer
  session_.on_reply(host_.admin[0].seq, ok());
  ASSERT_EQ(host_.submitted.size(), 2u);
  session_.on_reply(host_.submitted[1].seq, ok("1"));
  EXPECT_EQ(session_.take_output(), "$1\r\n1\r\n+OK\r\n$1\r\n1\r\n");
}

TEST_F(SessionTest, BadAdminCommandsAreRefusedAtParse) {
  session_.feed(command({"RAFT.MEMBER", "ADD", "n4", "nocolon"}) +
                command({"RAFT.MEMBER", "ADD", "n4", "127.0.0.1:7004", "OBSERVER"}) +
                command({"RAFT.MEMBER", "DEMOTE", "n4"}) + command({"RAFT.TRANSFER"}));
  std::string out = session_.take_output();
  EXPECT_TRUE(host_.admin.empty());
  EXPECT_NE(out.find("-ERR invalid address 'nocolon'"), std::string::npos) << out;
  EXPECT_NE(out.find("-ERR syntax error"), std::string::npos) << out;
  EXPECT_NE(out.find("-ERR unknown subcommand"), std::string::npos) << out;
  EXPECT_NE(out.find("-ERR wrong number of arguments"), std::string::npos) << out;
}

}  // namespace
}  // namespace raftkv::serve

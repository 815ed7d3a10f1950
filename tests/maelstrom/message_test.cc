// The Maelstrom wire codec: output bytes must be stable (golden files and
// Maelstrom compare them), and every kind of bad input must be rejected with
// enough recovered (src, msg_id) to answer with an error.
#include "maelstrom/message.h"

#include <gtest/gtest.h>

namespace raftkv::maelstrom {
namespace {

TEST(Serialize, EnvelopeAndBodyKeysInProtocolOrder) {
  Json body = make_body("read_ok", 3, 2);
  body["value"] = 1;
  EXPECT_EQ(
      serialize(Message{"n1", "c1", body}),
      R"({"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":3,"msg_id":2,"value":1}})");
}

TEST(Serialize, PayloadKeepsInsertionOrderNotAlphabetical) {
  Json body = make_body("cas", std::nullopt, 7);
  body["key"] = "k";
  body["from"] = 1;
  body["to"] = 2;
  EXPECT_EQ(
      serialize(Message{"c1", "n1", body}),
      R"({"src":"c1","dest":"n1","body":{"type":"cas","msg_id":7,"key":"k","from":1,"to":2}})");
}

TEST(Serialize, MakeBodyOmitsAbsentIds) {
  EXPECT_EQ(make_body("raft", std::nullopt, 4).dump(), R"({"type":"raft","msg_id":4})");
  EXPECT_EQ(make_body("x", std::nullopt, std::nullopt).dump(), R"({"type":"x"})");
  EXPECT_EQ(make_body("x", 9, std::nullopt).dump(), R"({"type":"x","in_reply_to":9})");
}

TEST(Serialize, ErrorBody) {
  EXPECT_EQ(make_error(5, 0, ErrorCode::kKeyDoesNotExist, "key does not exist").dump(),
            R"({"type":"error","in_reply_to":5,"msg_id":0,"code":20,"text":"key does not exist"})");
}

TEST(Serialize, EscapesAndKeepsUtf8) {
  Json body = make_body("write_ok", 1, 1);
  body["s"] = "q\"b\\n\nh\xC3\xA9";
  EXPECT_EQ(serialize(Message{"n\"1", "c1", body}),
            "{\"src\":\"n\\\"1\",\"dest\":\"c1\",\"body\":{\"type\":\"write_ok\",\"in_reply_to\":1,"
            "\"msg_id\":1,\"s\":\"q\\\"b\\\\n\\nh\xC3\xA9\"}}");
}

// stdout must stay JSON even if a body ever carries invalid UTF-8.
TEST(Serialize, InvalidUtf8InBodyDoesNotThrow) {
  Json body = make_body("x", std::nullopt, 1);
  body["s"] = std::string("\xFF\xFE");
  std::string line;
  ASSERT_NO_THROW(line = serialize(Message{"a", "b", body}));
  EXPECT_TRUE(parse(line).message.has_value()) << line;
}

TEST(RoundTrip, ParseThenSerializeIsIdentity) {
  const char* lines[] = {
      R"({"src":"c1","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}})",
      R"({"src":"c1","dest":"n1","body":{"type":"cas","msg_id":9,"key":[1,{"b":2,"a":1}],"from":null,"to":"x"}})",
      R"({"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":9223372036854775807,"msg_id":0,"value":-1.5}})",
  };
  for (const char* line : lines) {
    ParseResult r = parse(line);
    ASSERT_TRUE(r.message) << r.error;
    EXPECT_EQ(serialize(*r.message), line);
  }
}

TEST(RoundTrip, SerializeThenParse) {
  Json body = make_body("write", std::nullopt, 12);
  body["key"] = 3;
  body["value"] = Json::array({nullptr, "s", Json::object({{"z", 1}, {"a", 2}})});
  Message m{"c7", "n2", body};
  ParseResult r = parse(serialize(m));
  ASSERT_TRUE(r.message) << r.error;
  EXPECT_EQ(r.message->src, "c7");
  EXPECT_EQ(r.message->dest, "n2");
  EXPECT_EQ(r.message->body, body);
  EXPECT_EQ(r.message->type(), "write");
  EXPECT_EQ(r.message->msg_id(), 12);
  EXPECT_EQ(r.message->in_reply_to(), std::nullopt);
}

TEST(Parse, AcceptsWhitespaceAndAnyKeyOrder) {
  ParseResult r =
      parse(R"(  {"body": {"msg_id": 4, "type": "read"}, "dest": "n1", "src": "c1"}  )");
  ASSERT_TRUE(r.message) << r.error;
  EXPECT_EQ(r.message->type(), "read");
  EXPECT_EQ(r.message->msg_id(), 4);
}

struct Bad {
  const char* line;
  const char* error_part;
  std::optional<int64_t> msg_id;
  const char* src;
};

TEST(Parse, RejectsBadInputAndRecoversIds) {
  const Bad cases[] = {
      {"not json", "JSON", std::nullopt, ""},
      {"", "JSON", std::nullopt, ""},
      // Not JSON, but the ids that are there are recovered (IdScanner).
      {R"({"src":"c1")", "JSON", std::nullopt, "c1"},
      {"[1,2]", "object", std::nullopt, ""},
      {R"("str")", "object", std::nullopt, ""},
      {R"({"dest":"n1","body":{"type":"read","msg_id":1}})", "src", 1, ""},
      {R"({"src":5,"dest":"n1","body":{"type":"read","msg_id":2}})", "src", 2, ""},
      {R"({"src":"c1","body":{"type":"read","msg_id":3}})", "dest", 3, "c1"},
      {R"({"src":"c1","dest":["n1"],"body":{"type":"read","msg_id":4}})", "dest", 4, "c1"},
      {R"({"src":"c1","dest":"n1"})", "body", std::nullopt, "c1"},
      {R"({"src":"c1","dest":"n1","body":[1]})", "body", std::nullopt, "c1"},
      {R"({"src":"c1","dest":"n1","body":{"msg_id":5}})", "type", 5, "c1"},
      {R"({"src":"c1","dest":"n1","body":{"type":7,"msg_id":6}})", "type", 6, "c1"},
      {R"({"src":"c1","dest":"n1","body":{"type":null}})", "type", std::nullopt, "c1"},
      // A non-integer msg_id cannot be answered.
      {R"({"src":"c1","dest":"n1","body":{"msg_id":"7"}})", "type", std::nullopt, "c1"},
  };
  for (const Bad& c : cases) {
    SCOPED_TRACE(c.line);
    ParseResult r = parse(c.line);
    EXPECT_FALSE(r.message);
    EXPECT_NE(r.error.find(c.error_part), std::string::npos) << r.error;
    EXPECT_EQ(r.msg_id, c.msg_id);
    EXPECT_EQ(r.src, c.src);
  }
}

TEST(Message, AccessorsIgnoreWrongTypes) {
  Message m{"c1", "n1", Json::parse(R"({"type":"read","msg_id":1.5,"in_reply_to":"2"})")};
  EXPECT_EQ(m.type(), "read");
  EXPECT_EQ(m.msg_id(), std::nullopt);
  EXPECT_EQ(m.in_reply_to(), std::nullopt);
  Message n{"c1", "n1", Json::parse(R"({"type":1})")};
  EXPECT_EQ(n.type(), "");
}

TEST(ErrorCodes, DefiniteOnesMeanTheOperationDidNotHappen) {
  for (int c : {1, 10, 11, 12, 14, 20, 21, 22, 30}) EXPECT_TRUE(is_definite(c)) << c;
  for (int c : {0, 13, 99}) EXPECT_FALSE(is_definite(c)) << c;
}

}  // namespace
}  // namespace raftkv::maelstrom

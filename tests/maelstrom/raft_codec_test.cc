// Raft messages ride inside Maelstrom bodies; every field must survive the
// trip through JSON text, including entry data that needs escaping.
#include "maelstrom/raft_codec.h"

#include <gtest/gtest.h>

#include <set>

namespace raftkv::maelstrom {
namespace {

using raft::MsgType;

// Encodes, serialises to a line, parses and decodes, as two nodes would.
raft::Message round_trip(const raft::Message& m) {
  Json body = make_body("raft", std::nullopt, 1);
  encode_raft(m, body);
  ParseResult p = parse(serialize(Message{m.from, m.to, body}));
  EXPECT_TRUE(p.message) << p.error;
  std::string error;
  auto out = decode_raft(*p.message, &error);
  EXPECT_TRUE(out) << error;
  return out.value_or(raft::Message{});
}

raft::Message full(MsgType t) {
  raft::Message m;
  m.type = t;
  m.from = "n1";
  m.to = "n2";
  m.term = 7;
  m.log_term = 6;
  m.index = 10;
  m.commit = 9;
  m.reject = true;
  m.reject_hint = 4;
  m.conflict_term = 3;
  m.context = 1ULL << 63;  // the top of the range must survive JSON
  m.last = true;
  m.data = "3:key5:value";
  return m;
}

TEST(RaftCodec, EveryMessageTypeRoundTrips) {
  for (MsgType t : {MsgType::kAppend, MsgType::kAppendResp, MsgType::kVote, MsgType::kVoteResp,
                    MsgType::kPreVote, MsgType::kPreVoteResp, MsgType::kHeartbeat,
                    MsgType::kHeartbeatResp, MsgType::kSnapshotChunk, MsgType::kSnapshotResp}) {
    SCOPED_TRACE(raft::to_string(t));
    raft::Message m = full(t);
    EXPECT_EQ(round_trip(m), m);
    // Zero and false fields are left out on the wire and come back as such.
    raft::Message bare;
    bare.type = t;
    bare.from = "n3";
    bare.to = "n1";
    EXPECT_EQ(round_trip(bare), bare);
  }
}

TEST(RaftCodec, EntriesWithAwkwardDataRoundTrip) {
  raft::Message m = full(MsgType::kAppend);
  m.reject = false;
  m.entries = {
      {7, 11, raft::EntryType::kNormal, R"(c04:"\"5:{"a":"\\"})"},
      {7, 12, raft::EntryType::kNoop, ""},
      {7, 13, raft::EntryType::kNormal, "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80\n\t\x01"},
      {8, 14, raft::EntryType::kNormal, std::string(100000, 'x')},
  };
  EXPECT_EQ(round_trip(m), m);
}

TEST(RaftCodec, EntryIndexesFollowThePreviousIndex) {
  raft::Message m = full(MsgType::kAppend);
  m.index = 41;
  m.entries = {{1, 42, raft::EntryType::kNormal, "a"}, {1, 43, raft::EntryType::kNormal, "b"}};
  raft::Message out = round_trip(m);
  ASSERT_EQ(out.entries.size(), 2u);
  EXPECT_EQ(out.entries[0].index, 42u);
  EXPECT_EQ(out.entries[1].index, 43u);
}

TEST(RaftCodec, RejectsMalformedBodies) {
  const char* bodies[] = {
      R"({"type":"raft"})",
      R"({"type":"raft","m":"nope","term":1})",
      R"({"type":"raft","m":1,"term":1})",
      R"({"type":"raft","m":"app","term":-1})",
      R"({"type":"raft","m":"app","term":"1"})",
      R"({"type":"raft","m":"app","term":1.5})",
      R"({"type":"raft","m":"app","i":18446744073709551616})",
      R"({"type":"raft","m":"app","e":{}})",
      R"({"type":"raft","m":"app","e":[[1,0]]})",
      R"({"type":"raft","m":"app","e":[[1,3,"x"]]})",
      R"({"type":"raft","m":"app","e":[[1,0,5]]})",
      R"({"type":"raft","m":"app","e":[[-1,0,"x"]]})",
      R"({"type":"raft","m":"app","e":["x"]})",
      // An entry type that only looks like 0 or 1 once cast to int.
      R"({"type":"raft","m":"app","e":[[1,4294967297,"x"]]})",
      R"({"type":"raft","m":"app","e":[[1,1.0,"x"]]})",
      R"({"type":"raft","m":"app","e":[[18446744073709551616,0,"x"]]})",
      R"({"type":"raft","m":"app","rej":1})",
      R"({"type":"raft","m":"app","ctx":null})",
      // index + entries would wrap past 2^64 - 1.
      R"({"type":"raft","m":"app","i":18446744073709551615,"e":[[1,0,"x"]]})",
      R"({"type":"raft","m":"app","i":18446744073709551614,"e":[[1,0,"x"]]})",
  };
  for (const char* b : bodies) {
    SCOPED_TRACE(b);
    std::string error;
    EXPECT_FALSE(decode_raft(Message{"n1", "n2", Json::parse(b)}, &error));
    EXPECT_FALSE(error.empty());
  }
}

TEST(RaftCodec, NeverThrowsOnAnyBody) {
  // The body is an object by contract, but decode_raft must not rely on it.
  for (Json b : {Json(nullptr), Json::array({1}), Json("raft"),
                 Json::parse(R"({"m":"app","e":[[1,0,"x"],[1,0,null]]})")}) {
    std::string error;
    EXPECT_NO_THROW(EXPECT_FALSE(decode_raft(Message{"n1", "n2", b}, &error)));
    EXPECT_FALSE(error.empty());
  }
}

TEST(RaftCodec, TopOfRangeValuesDecodeExactly) {
  // Range policy (e.g. a term at the top) belongs to the Raft core; the
  // codec must hand over the exact number, not a rounded or wrapped one.
  std::string error;
  auto m = decode_raft(
      Message{"n1", "n2",
              Json::parse(R"({"m":"hb","term":18446744073709551615,"i":18446744073709551613,)"
                          R"("e":[[1,0,"x"]]})")},
      &error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->term, UINT64_MAX);
  EXPECT_EQ(m->entries.at(0).index, UINT64_MAX - 1);
}

TEST(RaftCodec, TypeNamesAreDistinct) {
  // decode_raft maps names back to types; two types sharing a name would
  // silently turn one message into another.
  std::set<std::string> names;
  for (int t = 0; t <= static_cast<int>(MsgType::kSnapshotChunk); ++t) {
    names.insert(raft::to_string(static_cast<MsgType>(t)));
  }
  EXPECT_EQ(names.size(), 11u);
}

}  // namespace
}  // namespace raftkv::maelstrom

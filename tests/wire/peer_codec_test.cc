#include "wire/peer_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace raftkv::wire {
namespace {

using server::ClientReply;
using server::ClientRequest;
using server::ForwardReply;
using server::ForwardRequest;
using server::PeerMessage;

ClientRequest request(ClientRequest::Op op, std::string key, std::string value = "",
                      std::string from = "", bool create = false) {
  ClientRequest r;
  r.op = op;
  r.key = std::move(key);
  r.value = std::move(value);
  r.from = std::move(from);
  r.create_if_not_exists = create;
  return r;
}

// ClientReply has no operator==; compare what travels.
bool same(const ForwardRequest& a, const ForwardRequest& b) {
  return a.id == b.id && a.request == b.request;
}
bool same(const ForwardReply& a, const ForwardReply& b) {
  return a.id == b.id && a.reply.code == b.reply.code && a.reply.value == b.reply.value &&
         a.reply.text == b.reply.text && a.reply.number == b.reply.number;
}
bool same(const raft::Message& a, const raft::Message& b) {
  return a == b;
}
bool same(const PeerMessage& a, const PeerMessage& b) {
  if (a.index() != b.index()) return false;
  return std::visit([&b](const auto& x) { return same(x, std::get<std::decay_t<decltype(x)>>(b)); },
                    a);
}

PeerMessage round_trip(const PeerMessage& m) {
  std::string error;
  auto d = decode(encode(m), &error);
  EXPECT_TRUE(d) << error;
  return d ? *d : PeerMessage{};
}

raft::Message full_raft_message() {
  raft::Message m;
  m.type = raft::MsgType::kSnapshotChunk;
  m.from = "n1";
  m.to = "n22";
  m.term = 7;
  m.log_term = UINT64_MAX;
  m.index = 1ull << 40;
  m.commit = 127;
  m.reject = true;
  m.reject_hint = 128;
  m.conflict_term = 300;
  m.context = 99;
  m.last = true;
  m.data = std::string("\0chunk\xff", 7);
  m.config = "M1|2:n1v0:";
  m.entries = {{1, 2, raft::EntryType::kNoop, ""},
               {3, 4, raft::EntryType::kNormal, "cmd"},
               {3, 5, raft::EntryType::kConfig, "M1|2:n1v0:"}};
  return m;
}

TEST(PeerCodec, RaftMessageEveryFieldRoundTrips) {
  raft::Message m = full_raft_message();
  EXPECT_EQ(std::get<raft::Message>(round_trip(m)), m);
  for (int t = 0; t <= static_cast<int>(raft::MsgType::kTimeoutNow); ++t) {
    m.type = static_cast<raft::MsgType>(t);
    EXPECT_EQ(std::get<raft::Message>(round_trip(m)), m);
  }
  EXPECT_EQ(std::get<raft::Message>(round_trip(raft::Message{})), raft::Message{});
}

TEST(PeerCodec, ForwardRequestAndReplyRoundTrip) {
  for (auto op : {ClientRequest::Op::kRead, ClientRequest::Op::kWrite, ClientRequest::Op::kCas}) {
    ForwardRequest f{42, request(op, "k", "v", "old", op == ClientRequest::Op::kCas)};
    EXPECT_TRUE(same(round_trip(f), PeerMessage{f}));
  }
  ClientRequest set = request(ClientRequest::Op::kSet, "k", "v", "expected");
  set.condition = ClientRequest::Condition::kIfEqual;
  set.return_old = true;
  ClientRequest del;
  del.op = ClientRequest::Op::kDelete;
  del.keys = {"a", std::string("\0", 1), ""};
  ClientRequest incr = request(ClientRequest::Op::kIncrBy, "n");
  incr.delta = INT64_MIN;
  for (const ClientRequest& r : {set, del, incr}) {
    ForwardRequest f{7, r};
    EXPECT_TRUE(same(round_trip(f), PeerMessage{f}));
  }
  ForwardReply negative{3, {server::ReplyCode::kOk, std::nullopt, "", INT64_MIN}};
  EXPECT_TRUE(same(round_trip(negative), PeerMessage{negative}));
  for (int c = 0; c <= static_cast<int>(server::ReplyCode::kNotAnInteger); ++c) {
    ForwardReply with{UINT64_MAX, {static_cast<server::ReplyCode>(c), "value", "why"}};
    ForwardReply without{1, {static_cast<server::ReplyCode>(c), std::nullopt, ""}};
    ForwardReply empty_value{2, {static_cast<server::ReplyCode>(c), "", ""}};
    for (const auto& f : {with, without, empty_value}) {
      EXPECT_TRUE(same(round_trip(f), PeerMessage{f}));
    }
  }
}

std::string random_bytes(std::mt19937_64& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}
uint64_t random_u64(std::mt19937_64& rng) {
  // Mostly small values (one or two varint bytes), sometimes huge.
  switch (rng() % 3) {
    case 0:
      return rng() % 200;
    case 1:
      return rng() % 100000;
    default:
      return rng() >> (rng() % 64);
  }
}

PeerMessage random_message(std::mt19937_64& rng) {
  switch (rng() % 3) {
    case 0: {
      raft::Message m;
      m.type = static_cast<raft::MsgType>(rng() % 11);
      m.from = random_bytes(rng, 5);
      m.to = random_bytes(rng, 5);
      m.term = random_u64(rng), m.log_term = random_u64(rng), m.index = random_u64(rng);
      m.commit = random_u64(rng), m.reject = rng() % 2, m.reject_hint = random_u64(rng);
      m.conflict_term = random_u64(rng), m.context = random_u64(rng), m.last = rng() % 2;
      m.data = random_bytes(rng, 40);
      for (size_t i = rng() % 6; i > 0; --i) {
        m.entries.push_back({random_u64(rng), random_u64(rng),
                             static_cast<raft::EntryType>(rng() % 2), random_bytes(rng, 30)});
      }
      return m;
    }
    case 1:
      return ForwardRequest{
          random_u64(rng), request(static_cast<ClientRequest::Op>(rng() % 3), random_bytes(rng, 10),
                                   random_bytes(rng, 10), random_bytes(rng, 10), rng() % 2 == 1)};
    default: {
      ForwardReply f{random_u64(rng), {static_cast<server::ReplyCode>(rng() % 6), {}, {}}};
      f.reply.number = static_cast<int64_t>(random_u64(rng));
      if (rng() % 2) f.reply.value = random_bytes(rng, 10);
      f.reply.text = random_bytes(rng, 10);
      return f;
    }
  }
}

TEST(PeerCodec, RandomMessagesRoundTripAndEncodeCanonically) {
  std::mt19937_64 rng(20261201);
  for (int i = 0; i < 5000; ++i) {
    PeerMessage m = random_message(rng);
    std::string bytes = encode(m);
    std::string error;
    auto d = decode(bytes, &error);
    ASSERT_TRUE(d) << "case " << i << ": " << error;
    ASSERT_TRUE(same(*d, m)) << "case " << i;
    ASSERT_EQ(encode(*d), bytes) << "case " << i;
  }
}

TEST(PeerCodec, EveryTruncationFailsWithAReason) {
  std::mt19937_64 rng(7);
  std::vector<PeerMessage> cases = {
      full_raft_message(), ForwardRequest{9, request(ClientRequest::Op::kCas, "k", "v", "f")},
      ForwardReply{9, {server::ReplyCode::kOk, "v", "t"}}};
  for (int i = 0; i < 50; ++i) cases.push_back(random_message(rng));
  for (const PeerMessage& m : cases) {
    std::string bytes = encode(m);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      std::string error;
      EXPECT_FALSE(decode(std::string_view(bytes).substr(0, cut), &error)) << cut;
      EXPECT_FALSE(error.empty()) << cut;
    }
    std::string error;
    EXPECT_FALSE(decode(bytes + "x", &error));
    EXPECT_NE(error.find("trailing"), std::string::npos) << error;
  }
}

TEST(PeerCodec, BadVersionKindEnumsAndBoolsAreRefused) {
  std::string good = encode(full_raft_message());
  auto error_of = [](std::string bytes) {
    std::string error;
    EXPECT_FALSE(decode(bytes, &error));
    return error;
  };
  std::string b = good;
  b[0] = 3;
  EXPECT_NE(error_of(b).find("unsupported wire version 3"), std::string::npos);
  b = good;
  b[1] = 3;
  EXPECT_NE(error_of(b).find("unknown message kind 3"), std::string::npos);
  b = good;
  b[2] = 12;
  EXPECT_NE(error_of(b).find("unknown raft message type 12"), std::string::npos);
  // reject sits after version, kind, type, "n1", "n22" and four varints.
  size_t reject_at = 3 + 3 + 4 + 1 + 10 + 6 + 1;
  ASSERT_EQ(b[reject_at], 1);
  b = good;
  b[reject_at] = 2;
  EXPECT_NE(error_of(b).find("bool reject is 2"), std::string::npos);
}

TEST(PeerCodec, HugeCountsAndLengthsFailWithoutAllocating) {
  // version 2, kind raft, type 0, from "", to "", 8 zero varints/bools...
  std::string prefix = std::string("\x02\x00\x00\x00\x00", 5) + std::string(9, '\0');
  std::string huge = "\xff\xff\xff\xff\xff\xff\xff\xff\x7f";  // 2^63 - 1
  std::string error;
  EXPECT_FALSE(decode(prefix + huge, &error));  // data length
  EXPECT_NE(error.find("bytes announced"), std::string::npos) << error;
  EXPECT_FALSE(decode(prefix + std::string("\0", 1) + huge, &error));  // config length
  EXPECT_NE(error.find("bytes announced"), std::string::npos) << error;
  EXPECT_FALSE(decode(prefix + std::string("\0\0", 2) + huge, &error));  // entry count
  EXPECT_NE(error.find("exceeds the input"), std::string::npos) << error;
  EXPECT_FALSE(decode(std::string("\x02\x01") + std::string(11, '\xff'), &error));
  EXPECT_NE(error.find("overflows"), std::string::npos) << error;
  EXPECT_FALSE(decode(std::string("\x02\x01\x80\x00", 4), &error));
  EXPECT_NE(error.find("overlong"), std::string::npos) << error;
}

TEST(PeerCodec, GarbageNeverCrashesAndAlwaysExplains) {
  std::mt19937_64 rng(99);
  int decoded = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string bytes = random_bytes(rng, 64);
    if (!bytes.empty() && rng() % 2) bytes[0] = kWireVersion;  // get past the version byte
    std::string error;
    auto d = decode(bytes, &error);
    if (d) {
      ++decoded;
      EXPECT_EQ(encode(*d), bytes);
    } else {
      EXPECT_FALSE(error.empty());
    }
  }
  EXPECT_LT(decoded, 200000);
}

TEST(PeerCodec, FramesConcatenateInOneBufferAndSplitBack) {
  std::mt19937_64 rng(3);
  std::vector<PeerMessage> msgs;
  std::string stream;
  append_hello_frame({"n1", "n2"}, stream);
  for (int i = 0; i < 100; ++i) {
    msgs.push_back(random_message(rng));
    append_frame(msgs.back(), stream);
  }
  std::string_view rest = stream;
  std::string_view payload;
  size_t used = 0;
  ASSERT_EQ(next_frame(rest, 1 << 20, &payload, &used), FrameStatus::kFrame);
  std::string error;
  EXPECT_EQ(decode_hello(payload, &error), (Hello{"n1", "n2"})) << error;
  rest.remove_prefix(used);
  for (const PeerMessage& m : msgs) {
    ASSERT_EQ(next_frame(rest, 1 << 20, &payload, &used), FrameStatus::kFrame);
    auto d = decode(payload, &error);
    ASSERT_TRUE(d) << error;
    EXPECT_TRUE(same(*d, m));
    rest.remove_prefix(used);
  }
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(next_frame(std::string_view("\x05\x00\x00\x00xx", 6), 10, &payload, &used),
            FrameStatus::kNeedMore);
  EXPECT_EQ(next_frame(std::string_view("\x05\x00", 2), 10, &payload, &used),
            FrameStatus::kNeedMore);
  EXPECT_EQ(next_frame(std::string_view("\x0b\x00\x00\x00", 4), 10, &payload, &used),
            FrameStatus::kTooLarge);
}

TEST(PeerCodec, HelloRefusesStrangers) {
  std::string error;
  EXPECT_FALSE(decode_hello("GET / HTTP/1.1\r\n", &error));
  EXPECT_NE(error.find("magic"), std::string::npos);
  std::string h = encode_hello({"a", "b"});
  EXPECT_FALSE(decode_hello(h.substr(0, h.size() - 1), &error));
  h[4] = 9;
  EXPECT_FALSE(decode_hello(h, &error));
  EXPECT_NE(error.find("version 9"), std::string::npos) << error;
}

}  // namespace
}  // namespace raftkv::wire

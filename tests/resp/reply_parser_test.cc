#include "resp/reply_parser.h"

#include <gtest/gtest.h>

#include <random>

#include "resp/encode.h"

namespace raftkv::resp {
namespace {

std::vector<Reply> parse_all(ReplyParser& p) {
  std::vector<Reply> out;
  while (auto r = p.next()) out.push_back(std::move(*r));
  return out;
}

std::vector<Reply> sample_replies() {
  std::string big(70000, 'z');
  return {Reply::simple("OK"),
          Reply::error("ERR wrong number of arguments for 'get' command"),
          Reply::integer_of(-9),
          Reply::bulk(std::string("bin\0\r\n", 6)),
          Reply::bulk(""),
          Reply::null(),
          Reply::array({}),
          Reply::array({Reply::bulk("a"), Reply::array({Reply::integer_of(1), Reply::null()}),
                        Reply::array({})}),
          Reply::bulk(big)};
}

std::string encode_all(const std::vector<Reply>& replies) {
  std::string out;
  for (const auto& r : replies) append_reply(out, r);
  return out;
}

TEST(ReplyParser, RoundTripsWholeStream) {
  auto replies = sample_replies();
  ReplyParser p;
  p.feed(encode_all(replies));
  EXPECT_EQ(parse_all(p), replies);
  EXPECT_FALSE(p.failed());
}

TEST(ReplyParser, OneByteAtATime) {
  auto replies = sample_replies();
  std::string bytes = encode_all(replies);
  ReplyParser p;
  std::vector<Reply> got;
  for (char c : bytes) {
    p.feed(std::string_view(&c, 1));
    while (auto r = p.next()) got.push_back(std::move(*r));
  }
  EXPECT_EQ(got, replies);
  EXPECT_LT(p.buffered_bytes(), 1024u);
}

TEST(ReplyParser, EverySplitPointOfSmallReplies) {
  std::vector<Reply> replies = sample_replies();
  replies.pop_back();  // without the big one: quadratic in the stream length
  std::string bytes = encode_all(replies);
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    ReplyParser p;
    p.feed(std::string_view(bytes).substr(0, cut));
    auto got = parse_all(p);
    p.feed(std::string_view(bytes).substr(cut));
    auto rest = parse_all(p);
    got.insert(got.end(), rest.begin(), rest.end());
    ASSERT_EQ(got, replies) << "cut at " << cut;
  }
}

TEST(ReplyParser, RandomChunks) {
  auto replies = sample_replies();
  std::string bytes = encode_all(replies);
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    ReplyParser p;
    std::vector<Reply> got;
    for (size_t at = 0; at < bytes.size();) {
      size_t n = std::uniform_int_distribution<size_t>(1, 5000)(rng);
      p.feed(std::string_view(bytes).substr(at, n));
      at += n;
      while (auto r = p.next()) got.push_back(std::move(*r));
    }
    ASSERT_EQ(got, replies);
  }
}

// Found by fuzz_resp_reply: a line ends at CRLF, so a bare CR is text (as
// in hiredis); the encoder writes it back as a space.
TEST(ReplyParser, BareCrInsideSimpleString) {
  ReplyParser p;
  p.feed("+O+OK\rK\r\n");
  auto r = p.next();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, Reply::simple("O+OK\rK"));
  std::string out;
  append_reply(out, *r);
  EXPECT_EQ(out, "+O+OK K\r\n");
}

TEST(ReplyParser, NullArrayIsNull) {
  ReplyParser p;
  p.feed("*-1\r\n*2\r\n*-1\r\n$-1\r\n");
  auto got = parse_all(p);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], Reply::null());
  EXPECT_EQ(got[1], Reply::array({Reply::null(), Reply::null()}));
}

TEST(ReplyParser, RepliesBeforeAnErrorStillComeOut) {
  ReplyParser p;
  p.feed("+OK\r\n:12\r\n?what\r\n+never\r\n");
  auto got = parse_all(p);
  EXPECT_EQ(got, (std::vector<Reply>{Reply::simple("OK"), Reply::integer_of(12)}));
  EXPECT_TRUE(p.failed());
  EXPECT_EQ(p.error(), "protocol error: unexpected reply type byte '?'");
  p.feed("+OK\r\n");
  EXPECT_FALSE(p.next().has_value());
}

struct BadReply {
  const char* bytes;
  const char* error;
};

TEST(ReplyParser, ProtocolErrors) {
  ParseLimits limits;
  limits.max_bulk_len = 100;
  limits.max_array_len = 10;
  limits.max_inline_len = 20;
  limits.max_depth = 3;
  for (BadReply b : std::initializer_list<BadReply>{
           {":12x\r\n", "protocol error: invalid integer"},
           {":\r\n", "protocol error: invalid integer"},
           {"$-2\r\n", "protocol error: invalid bulk length"},
           {"$abc\r\n", "protocol error: invalid bulk length"},
           {"$101\r\n", "protocol error: bulk length over the limit"},
           {"$3\r\nabcd\r\n", "protocol error: bulk string not followed by CRLF"},
           {"*11\r\n", "protocol error: array length over the limit"},
           {"*x\r\n", "protocol error: invalid multibulk length"},
           {"*1\r\n*1\r\n*1\r\n*1\r\n", "protocol error: arrays nested too deep"},
           {"+OK\n", "protocol error: line not ended by CRLF"},
           {"\r\n", "protocol error: line not ended by CRLF"},
           {"+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "protocol error: line too long"},
           {"%1\r\n", "protocol error: unexpected reply type byte '%'"},
       }) {
    ReplyParser p(limits);
    p.feed(b.bytes);
    parse_all(p);
    EXPECT_TRUE(p.failed()) << b.bytes;
    EXPECT_EQ(p.error(), b.error) << b.bytes;
  }
}

TEST(ReplyParser, HugeAnnouncedBulkAllocatesOnlyWhatArrived) {
  ReplyParser p;
  p.feed("$500000000\r\nabc");
  EXPECT_FALSE(p.next().has_value());
  EXPECT_FALSE(p.failed());
  EXPECT_LT(p.buffered_bytes(), 64u * 1024);
}

}  // namespace
}  // namespace raftkv::resp

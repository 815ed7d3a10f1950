// Hostile JSON at the door (issue 11): depth limit, exact numbers, the one
// equality rule (canonical text), NUL and trailing bytes, and ids recovered
// from lines that cannot be parsed so they can still be answered.
#include "maelstrom/json_text.h"

#include <gtest/gtest.h>

#include <string>

#include "maelstrom/message.h"

namespace raftkv::maelstrom {
namespace {

std::string nested(size_t depth, std::string_view leaf = "1") {
  return std::string(depth, '[') + std::string(leaf) + std::string(depth, ']');
}

std::string canon(std::string_view text) {
  JsonParse p = parse_json(text);
  EXPECT_TRUE(p.value) << text << ": " << p.error;
  return p.value ? canonical_text(*p.value) : std::string("<invalid>");
}

std::string envelope(std::string_view body) {
  return R"({"src":"c1","dest":"n1","body":)" + std::string(body) + "}";
}

// ---- depth ---------------------------------------------------------------------

TEST(Depth, ValueAtTheLimitIsAcceptedOneMoreIsRejected) {
  // Envelope and body are two levels: a value may nest kMaxJsonDepth - 2.
  std::string ok =
      envelope(R"({"type":"write","msg_id":1,"key":1,"value":)" + nested(kMaxJsonDepth - 2) + "}");
  ParseResult r = parse(ok);
  ASSERT_TRUE(r.message) << r.error;
  EXPECT_EQ(serialize(*r.message), ok);
  std::string deep =
      envelope(R"({"type":"write","msg_id":1,"key":1,"value":)" + nested(kMaxJsonDepth - 1) + "}");
  r = parse(deep);
  EXPECT_FALSE(r.message);
  EXPECT_NE(r.error.find("nested deeper than 128"), std::string::npos) << r.error;
  EXPECT_EQ(r.msg_id, 1);
  EXPECT_EQ(r.src, "c1");
}

TEST(Depth, ForwardingWrappersGetOneLevelMore) {
  // A follower wraps a client body at the limit in "fwd" (and a leader its
  // reply in "fwd_ok"): that must still parse at the other end.
  std::string value = nested(kMaxJsonDepth - 2);
  std::string fwd =
      R"({"src":"n2","dest":"n1","body":{"type":"fwd","msg_id":3,"client":"c1","req":{"type":"write","msg_id":1,"key":1,"value":)" +
      value + "}}}";
  ParseResult r = parse(fwd);
  ASSERT_TRUE(r.message) << r.error;
  EXPECT_EQ(serialize(*r.message), fwd);
  std::string fwd_deeper =
      R"({"src":"n2","dest":"n1","body":{"type":"fwd","msg_id":3,"req":{"v":)" +
      nested(kMaxJsonDepth - 1) + "}}}";
  EXPECT_FALSE(parse(fwd_deeper).message);
  // Only the wrappers: a client type at that depth is refused.
  std::string other =
      R"({"src":"n2","dest":"n1","body":{"type":"write","msg_id":3,"req":{"v":)" + value + "}}}";
  EXPECT_FALSE(parse(other).message);
}

struct DeepCase {
  const char* name;
  std::string body;
};

// Issue 11: ~90,000 levels in a write value, read key, cas from or a field
// of a second init killed the node with SIGSEGV (recursive dump). Now each is
// refused at the door with its msg_id recovered, whether the msg_id comes
// before or after the deep value.
TEST(Depth, NinetyThousandLevelsAreRefusedWithTheirIds) {
  const std::string deep = nested(90000);
  const std::string deep_obj = [] {
    std::string s;
    for (int i = 0; i < 90000; ++i) s += R"({"a":)";
    s += "1";
    s += std::string(90000, '}');
    return s;
  }();
  const DeepCase cases[] = {
      {"write value", R"({"type":"write","msg_id":5,"key":1,"value":)" + deep + "}"},
      {"write value after", R"({"type":"write","key":1,"value":)" + deep_obj + R"(,"msg_id":5})"},
      {"read key", R"({"type":"read","msg_id":5,"key":)" + deep + "}"},
      {"cas from", R"({"type":"cas","key":1,"from":)" + deep + R"(,"to":2,"msg_id":5})"},
      {"init", R"({"type":"init","msg_id":5,"node_id":"n1","node_ids":)" + deep + "}"},
  };
  for (const DeepCase& c : cases) {
    SCOPED_TRACE(c.name);
    ParseResult r = parse(envelope(c.body));
    EXPECT_FALSE(r.message);
    EXPECT_EQ(r.error, "nested deeper than 128 levels");
    EXPECT_EQ(r.msg_id, 5);
    EXPECT_EQ(r.src, "c1");
    EXPECT_EQ(r.dest, "n1");
  }
}

TEST(Depth, ParseValueRefusesDeepTextAndWritersAreNotRecursive) {
  EXPECT_FALSE(parse_value(nested(kMaxJsonDepth + 1)));
  EXPECT_TRUE(parse_value(nested(kMaxJsonDepth)));
  // A value built in code can be deeper than any parse allows: writing it
  // must not recurse either.
  Json v = 1;
  for (int i = 0; i < 200000; ++i) v = Json::array({std::move(v)});
  std::string text = canonical_text(v);
  EXPECT_EQ(text.size(), 2u * 200000 + 1);
  EXPECT_EQ(text.substr(199998, 5), "[[1]]");
  std::string line = serialize(Message{"a", "b", Json::object({{"v", std::move(v)}})});
  EXPECT_EQ(line.size(),
            text.size() + std::string(R"({"src":"a","dest":"b","body":{"v":}})").size());
}

// ---- numbers -------------------------------------------------------------------

constexpr const char* k2p64 = "18446744073709551616";
constexpr const char* k2p64p1 = "18446744073709551617";

// Issue 11: integers outside [-2^63, 2^64-1] became doubles; 2^64 and
// 2^64+1 were one key and read back as 1.8446744073709552e+19.
TEST(Numbers, BigIntegersKeepTheirDigits) {
  EXPECT_EQ(canon(k2p64), k2p64);
  EXPECT_EQ(canon(k2p64p1), k2p64p1);
  EXPECT_NE(canon(k2p64), canon(k2p64p1));
  EXPECT_EQ(canon("-9223372036854775809"), "-9223372036854775809");
  const std::string huge = "1" + std::string(300, '7');
  EXPECT_EQ(canon(huge), huge);
  EXPECT_EQ(canon("-" + huge), "-" + huge);
  // Inside containers, and through a whole message and back.
  std::string line = envelope(std::string(R"({"type":"write","msg_id":1,"key":)") + k2p64p1 +
                              R"(,"value":[)" + k2p64 + R"(,{"z":-)" + huge + "}]}");
  ParseResult r = parse(line);
  ASSERT_TRUE(r.message) << r.error;
  EXPECT_EQ(serialize(*r.message), line);
  EXPECT_EQ(canonical_text(r.message->body["key"]), k2p64p1);
  auto back = parse_value(canonical_text(r.message->body["value"]));
  ASSERT_TRUE(back);
  EXPECT_EQ(canonical_text(*back), std::string("[") + k2p64 + R"(,{"z":-)" + huge + "}]");
  EXPECT_EQ(big_integer_digits((*back)[0]), std::string_view(k2p64));
}

TEST(Numbers, RangeEdgesStayNativeIntegers) {
  EXPECT_EQ(canon("18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(canon("-9223372036854775808"), "-9223372036854775808");
  EXPECT_TRUE(parse_value("18446744073709551615")->is_number_unsigned());
  EXPECT_TRUE(parse_value("-9223372036854775808")->is_number_integer());
  EXPECT_TRUE(parse_value(k2p64)->is_binary());
  EXPECT_EQ(canon("-0"), "0");  // an integer: -0 is 0
}

// Issue 11: cas compared signed and unsigned after a cast: stored
// 18446744073709551615, cas from -1 succeeded; the same with 2^63 and
// -2^63, also inside arrays. The adapter compares canonical texts.
TEST(Equality, SignedAndUnsignedNeverEqual) {
  EXPECT_NE(canon("18446744073709551615"), canon("-1"));
  EXPECT_NE(canon("9223372036854775808"), canon("-9223372036854775808"));
  EXPECT_NE(canon("[9223372036854775808]"), canon("[-9223372036854775808]"));
  EXPECT_NE(canon(R"({"a":[18446744073709551615]})"), canon(R"({"a":[-1]})"));
  EXPECT_FALSE(same_value(*parse_value("18446744073709551615"), *parse_value("-1")));
}

// Issue 11: cas treated 1 and 1.0 as equal, and 0 and -0.0, while keys and
// reads told them apart. One rule: different canonical texts.
TEST(Equality, IntegersAndDoublesAreDifferentValues) {
  EXPECT_EQ(canon("1.0"), "1.0");
  EXPECT_EQ(canon("-0.0"), "-0.0");
  EXPECT_NE(canon("1"), canon("1.0"));
  EXPECT_NE(canon("0"), canon("-0.0"));
  EXPECT_NE(canon("0.0"), canon("-0.0"));
  EXPECT_NE(canon("100"), canon("1e2"));
  EXPECT_NE(canon("[1]"), canon("[1.0]"));
  EXPECT_FALSE(same_value(*parse_value("1"), *parse_value("1.0")));
  // The same double, however written, is one value.
  EXPECT_EQ(canon("1.0"), canon("1.00"));
  EXPECT_EQ(canon("1e2"), canon("100.0"));
  EXPECT_EQ(canon("0.1"), "0.1");
  EXPECT_EQ(canon("1e300"), "1e+300");
}

TEST(Equality, ObjectsCompareByContent) {
  EXPECT_EQ(canon(R"({"b":2,"a":[1,{"y":1,"x":2}]})"), R"({"a":[1,{"x":2,"y":1}],"b":2})");
  EXPECT_EQ(canon(R"({"a":1,"a":2})"), R"({"a":2})");  // last one wins
  EXPECT_NE(canon("3"), canon(R"("3")"));
  EXPECT_NE(canon("null"), canon("[]"));
}

TEST(Equality, ManyDuplicateKeysLastWinsInInsertionOrder) {
  std::string obj = "{";
  for (int i = 0; i < 1000; ++i)
    obj += "\"k" + std::to_string(i % 100) + "\":" + std::to_string(i) + ",";
  obj.back() = '}';
  auto v = parse_value(obj);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->size(), 100u);
  EXPECT_EQ((*v)["k7"], 907);
  EXPECT_EQ(v->begin().key(), "k0");  // insertion order of first appearance
}

// Issue 11: a number that overflows a double made the whole line invalid,
// so there was no reply even though it had a msg_id.
TEST(Numbers, BeyondDoubleRangeIsRefusedWithTheIds) {
  for (const std::string& n :
       {std::string("1e400"), std::string("-1e400"), "1" + std::string(400, '0')}) {
    SCOPED_TRACE(n);
    ParseResult r = parse(envelope(R"({"type":"write","msg_id":9,"key":1,"value":)" + n + "}"));
    EXPECT_FALSE(r.message);
    EXPECT_NE(r.error.find("beyond the double range"), std::string::npos) << r.error;
    EXPECT_EQ(r.msg_id, 9);
    EXPECT_EQ(r.src, "c1");
  }
  EXPECT_FALSE(parse_value("1e400"));
  EXPECT_EQ(canon("1e-400"), "0.0");  // underflow rounds to the nearest double
}

// ---- bytes after the value --------------------------------------------------

// Issue 11: bytes after a NUL were ignored: {valid}\0garbage was accepted.
TEST(Trailing, NulThenGarbageIsRejectedWithTheIds) {
  std::string ok = envelope(R"({"type":"read","msg_id":4,"key":1})");
  for (const std::string& line :
       {ok + std::string("\0garbage", 8), ok + std::string(1, '\0'), std::string("\0", 1) + ok}) {
    ParseResult r = parse(line);
    EXPECT_FALSE(r.message);
    EXPECT_NE(r.error.find("NUL"), std::string::npos) << r.error;
  }
  ParseResult r = parse(ok + std::string("\0garbage", 8));
  EXPECT_EQ(r.msg_id, 4);
  EXPECT_EQ(r.src, "c1");
  EXPECT_FALSE(parse_value(std::string("1\0", 2)));
}

TEST(Trailing, AnythingButWhitespaceAfterTheValueIsRejected) {
  std::string ok = envelope(R"({"type":"read","msg_id":4,"key":1})");
  EXPECT_TRUE(parse(ok + " \t\r").message);
  for (std::string tail : {"x", "}", "{}", " 1"}) {
    ParseResult r = parse(ok + tail);
    EXPECT_FALSE(r.message) << tail;
    EXPECT_EQ(r.msg_id, 4) << tail;
  }
}

// ---- ids from unparseable lines ----------------------------------------------

struct Scan {
  std::string line;
  std::optional<int64_t> msg_id;
  std::string src;
  std::string dest;
};

TEST(IdScanner, RecoversWhatIsThere) {
  const Scan cases[] = {
      {R"({"src":"c1","dest":"n1","body":{"type":"write","msg_id":2,"key":0)", 2, "c1", "n1"},
      {R"({"body":{"msg_id":3,"x":[1,{"msg_id":99}]},"src":"c\"q","dest":"n1",)", 3, "c\"q", "n1"},
      {R"({"src":"\u0063\u0031","body":{"\u006dsg_id":6}, bad)", 6, "c1", ""},
      {R"({"src":"c1","body":{"msg_id":1,"msg_id":"x"}} )", std::nullopt, "c1", ""},
      {R"({"src":"c1","src":["c2"],"body":{"msg_id":1.5}})", std::nullopt, "", ""},
      {R"({"src":"c1","body":{"msg_id":9223372036854775808}})", std::nullopt, "c1", ""},
      {R"({"src":"c1","body":{"msg_id":-3}} {"src":"c9"})", -3, "c1", ""},
      {R"({"src":"c1","body":{"msg_id":12)", std::nullopt, "c1", ""},  // cut: maybe 123
      {R"({"x":{"src":"c2","body":{"msg_id":1}}})", std::nullopt, "", ""},
      {R"([{"src":"c2","body":{"msg_id":1}}])", std::nullopt, "", ""},
      {"{\"src\":\"c1\",\"body\":{\"msg_id\":1\x01}}", std::nullopt, "c1", ""},
      {"not json", std::nullopt, "", ""},
  };
  for (const Scan& c : cases) {
    SCOPED_TRACE(c.line);
    ParseResult r;
    IdScanner s;
    s.feed(c.line);
    s.fill(r);
    EXPECT_EQ(r.msg_id, c.msg_id);
    EXPECT_EQ(r.src, c.src);
    EXPECT_EQ(r.dest, c.dest);
    // Byte by byte gives the same.
    ParseResult r2;
    IdScanner s2;
    for (char ch : c.line) s2.feed(std::string_view(&ch, 1));
    s2.fill(r2);
    EXPECT_EQ(r2.msg_id, r.msg_id);
    EXPECT_EQ(r2.src, r.src);
  }
}

TEST(IdScanner, ParseOversizedFromAHead) {
  ParseResult r = parse_oversized(R"({"src":"c1","dest":"n1","body":{"msg_id":8,"value":"xxxx)",
                                  100000000, 67108864);
  EXPECT_FALSE(r.message);
  EXPECT_EQ(r.msg_id, 8);
  EXPECT_EQ(r.src, "c1");
  EXPECT_EQ(r.dest, "n1");
  EXPECT_EQ(r.error, "line of 100000000 bytes is over the limit of 67108864 bytes");
}

// ---- output bytes ------------------------------------------------------------

TEST(Strings, EscapedExactlyAsNlohmannDoes) {
  std::vector<std::string> cases = {
      "", "plain", "q\"b\\s/", "\b\f\n\r\t\x01\x1f\x7f",
      "h\xC3\xA9llo \xE2\x9C\x93 \xF0\x9F\x98\x80",
      // invalid: lone continuation, overlong, surrogate, past U+10FFFF, cut
      "\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "a\xE2\x9C"};
  for (int b = 0; b < 256; ++b) cases.push_back(std::string(1, static_cast<char>(b)) + "x");
  for (const std::string& s : cases) {
    std::string mine;
    write_json(mine, Json(s));
    EXPECT_EQ(mine, Json(s).dump(-1, ' ', false, Json::error_handler_t::replace)) << s;
  }
}

// ---- no exceptions -------------------------------------------------------------

TEST(NoThrow, GarbageInEveryEntryPoint) {
  const std::string inputs[] = {"",
                                "{",
                                "\xFF\xFE",
                                "[1,]",
                                "\"\\ud800\"",
                                "{\"a\"}",
                                "1e99999999",
                                "-",
                                "[[[[[",
                                "\"\x01\"",
                                "nul",
                                "{\"a\":1,}",
                                "18446744073709551616e"};
  for (const std::string& in : inputs) {
    SCOPED_TRACE(in);
    EXPECT_NO_THROW(parse(in));
    EXPECT_NO_THROW(parse_value(in));
    EXPECT_NO_THROW(parse_json(in));
  }
  Json odd = Json::object({{"bad", std::string("\xFF")}, {"bin", Json::binary({1, 2, 3})}});
  EXPECT_NO_THROW(canonical_text(odd));
  EXPECT_EQ(canonical_text(odd), "{\"bad\":\"\xEF\xBF\xBD\",\"bin\":null}");
  EXPECT_EQ(canonical_text(make_big_integer("012")), "null");  // not digits of a big integer
}

}  // namespace
}  // namespace raftkv::maelstrom

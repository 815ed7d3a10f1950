// The command encoding is what the Raft log stores and replicates: it must
// round-trip any key/value text exactly and refuse anything else rather
// than apply a misread command.
#include "kv/command.h"

#include <gtest/gtest.h>

namespace raftkv::kv {
namespace {

using Op = Command::Op;

TEST(Command, RoundTripsEveryOp) {
  const Command cases[] = {
      {Op::kWrite, "3", "42", "", false},
      {Op::kWrite, R"("3")", R"({"a":[1,2],"b":null})", "", false},
      {Op::kCas, R"("k")", "2", "1", false},
      {Op::kCas, "7", R"("to:1:")", "null", true},
      {Op::kRead, R"({"a":1})", "", "", false},
      {Op::kWrite, "", "", "", false},
      // Lengths and separators inside the fields must not confuse the parser.
      {Op::kWrite, "12:34", "5:", ":::", false},
      {Op::kWrite, R"("h\u00e9 \"q\" \\")", "\"h\xC3\xA9\"", "", false},
      {Op::kWrite, "1", std::string(1 << 20, 'v'), "", false},
  };
  for (const Command& c : cases) {
    std::string bytes = encode(c);
    SCOPED_TRACE(bytes.substr(0, 80));
    auto d = decode(bytes);
    ASSERT_TRUE(d);
    EXPECT_EQ(*d, c);
  }
}

TEST(Command, RejectsGarbage) {
  const Command ok{Op::kCas, "1", "2", "3", true};
  const std::string good = encode(ok);  // "c11:11:21:3"
  ASSERT_EQ(good, "c11:11:21:3");
  const std::string bad[] = {
      "",
      "w",
      "w0",
      "x01:11:21:3",                  // unknown op
      "c21:11:21:3",                  // bad create flag
      "c11:11:2",                     // missing field
      "c11:11:21:3extra",             // trailing bytes
      "c11:11:22:3",                  // length beyond the end
      "c1:11:21:3",                   // empty length
      "c1a:11:21:3",                  // non-digit length
      "c1-1:11:21:3",                 // negative length
      "c1+1:11:21:3",                 // signed length
      "c199999999999999999999999:1",  // length overflows
      "c11",                          // no separator at all
  };
  for (const std::string& b : bad) {
    EXPECT_FALSE(decode(b)) << b;
  }
}

}  // namespace
}  // namespace raftkv::kv

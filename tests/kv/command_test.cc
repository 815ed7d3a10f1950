// The command encoding is what the Raft log stores and replicates: it must
// round-trip any key/value text exactly and refuse anything else rather
// than apply a misread command.
#include "kv/command.h"

#include <gtest/gtest.h>

namespace raftkv::kv {
namespace {

using Op = Command::Op;
using Cond = Command::Condition;

Command cmd(Op op, std::string key, std::string value, std::string from, bool create) {
  Command c;
  c.op = op;
  c.key = std::move(key);
  c.value = std::move(value);
  c.from = std::move(from);
  c.create_if_not_exists = create;
  return c;
}

Command set(std::string key, std::string value, Cond cond, std::string from, bool get) {
  Command c = cmd(Op::kSet, std::move(key), std::move(value), std::move(from), false);
  c.condition = cond;
  c.return_old = get;
  return c;
}

Command keys(Op op, std::vector<std::string> ks) {
  Command c;
  c.op = op;
  c.keys = std::move(ks);
  return c;
}

Command incr(std::string key, int64_t delta) {
  Command c;
  c.op = Op::kIncrBy;
  c.key = std::move(key);
  c.delta = delta;
  return c;
}

TEST(Command, RoundTripsEveryOp) {
  const Command cases[] = {
      cmd(Op::kWrite, "3", "42", "", false),
      cmd(Op::kWrite, R"("3")", R"({"a":[1,2],"b":null})", "", false),
      cmd(Op::kCas, R"("k")", "2", "1", false),
      cmd(Op::kCas, "7", R"("to:1:")", "null", true),
      cmd(Op::kRead, R"({"a":1})", "", "", false),
      cmd(Op::kWrite, "", "", "", false),
      // Lengths and separators inside the fields must not confuse the parser.
      cmd(Op::kWrite, "12:34", "5:", ":::", false),
      cmd(Op::kWrite, R"("h\u00e9 \"q\" \\")", "\"h\xC3\xA9\"", "", false),
      cmd(Op::kWrite, "1", std::string(1 << 20, 'v'), "", false),
      set("k", "v", Cond::kNone, "", false),
      set("k", "", Cond::kIfAbsent, "", true),
      set(std::string("a\0b", 3), "v", Cond::kIfPresent, "", false),
      set("k", "new", Cond::kIfEqual, "old:3:", true),
      keys(Op::kDelete, {"a", "", "c:d"}),
      keys(Op::kExists, {"x"}),
      incr("n", -9223372036854775807LL - 1),
      incr("n", 42),
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
  const Command ok = cmd(Op::kCas, "1", "2", "3", true);
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
      "s?1:k1:v0:",                   // unknown set condition
      "s-1:k1:v0:1:x",                // set: a trailing field that is not "g"
      "i01:n2:+1",                    // incr: not a strict integer
      "i01:n",                        // incr: no delta
      "d0",                           // delete: no keys
      "d11:a",                        // delete: bad flag
      "e01:a1:",                      // exists: truncated key
      "w001:k0:0:",                   // a length with a leading zero (not canonical)
      "d000:",                        // ... even for an empty field
  };
  for (const std::string& b : bad) {
    EXPECT_FALSE(decode(b)) << b;
  }
}

}  // namespace
}  // namespace raftkv::kv

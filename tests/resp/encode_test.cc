#include "resp/encode.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace raftkv::resp {
namespace {

TEST(Encode, ScalarsHaveRedisByteForms) {
  std::string out;
  append_simple(out, "OK");
  append_error(out, "ERR syntax error");
  append_integer(out, -42);
  append_integer(out, std::numeric_limits<int64_t>::min());
  append_bulk(out, "hi");
  append_bulk(out, "");
  append_null(out);
  append_null_array(out);
  EXPECT_EQ(out,
            "+OK\r\n-ERR syntax error\r\n:-42\r\n:-9223372036854775808\r\n$2\r\nhi\r\n$0\r\n\r\n"
            "$-1\r\n*-1\r\n");
}

TEST(Encode, LineTextCannotBreakFraming) {
  std::string out;
  append_simple(out, "a\r\nb");
  append_error(out, "ERR x\ny");
  EXPECT_EQ(out, "+a  b\r\n-ERR x y\r\n");
}

TEST(Encode, BulkIsBinarySafe) {
  std::string out;
  append_bulk(out, std::string("a\0\r\nb", 5));
  EXPECT_EQ(out, std::string("$5\r\na\0\r\nb\r\n", 11));
}

TEST(Encode, ArraysOfBulkStrings) {
  std::string out;
  append_bulk_array(out, {"SET", "k", "v"});
  EXPECT_EQ(out, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
  out.clear();
  std::vector<std::string> none;
  append_bulk_array(out, none);
  EXPECT_EQ(out, "*0\r\n");
}

TEST(Encode, NestedReply) {
  std::string out;
  append_reply(out, Reply::array({Reply::integer_of(1), Reply::array({Reply::bulk("x")}),
                                  Reply::null(), Reply::simple("OK"), Reply::error("ERR e")}));
  EXPECT_EQ(out, "*5\r\n:1\r\n*1\r\n$1\r\nx\r\n$-1\r\n+OK\r\n-ERR e\r\n");
}

TEST(Display, LooksLikeRedisCli) {
  EXPECT_EQ(to_display(Reply::array({Reply::bulk("a\n\x01"), Reply::null(), Reply::integer_of(3),
                                     Reply::error("ERR x"), Reply::simple("OK")})),
            "[\"a\\n\\x01\", (nil), (integer) 3, (error) ERR x, OK]");
}

}  // namespace
}  // namespace raftkv::resp

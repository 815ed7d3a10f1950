#include "resp/replies.h"

#include <gtest/gtest.h>

#include "resp/reply_parser.h"

namespace raftkv::resp {
namespace {

Reply parse_one(const std::string& bytes) {
  ReplyParser p;
  p.feed(bytes);
  auto r = p.next();
  EXPECT_TRUE(r.has_value()) << p.error();
  EXPECT_FALSE(p.next().has_value());  // exactly one reply
  return r.value_or(Reply::null());
}

TEST(Replies, HelloIsRedisFlatArray) {
  HelloFields f;
  f.id = 42;
  std::string out;
  append_hello_reply(out, f);
  EXPECT_EQ(parse_one(out),
            Reply::array({Reply::bulk("server"), Reply::bulk("redis"), Reply::bulk("version"),
                          Reply::bulk("7.0.0"), Reply::bulk("proto"), Reply::integer_of(2),
                          Reply::bulk("id"), Reply::integer_of(42), Reply::bulk("mode"),
                          Reply::bulk("standalone"), Reply::bulk("role"), Reply::bulk("master"),
                          Reply::bulk("modules"), Reply::array({})}));
}

TEST(Replies, InfoSelectsSections) {
  std::vector<InfoSection> all = {{"Server", {{"redis_version", "7.0.0"}, {"raftkv", "1"}}},
                                  {"Raft", {{"role", "leader"}}}};
  std::string out;
  append_info_reply(out, Info{}, all);
  EXPECT_EQ(parse_one(out).str,
            "# Server\r\nredis_version:7.0.0\r\nraftkv:1\r\n\r\n# Raft\r\nrole:leader\r\n");
  out.clear();
  append_info_reply(out, Info{{"raft"}}, all);
  EXPECT_EQ(parse_one(out).str, "# Raft\r\nrole:leader\r\n");
  out.clear();
  append_info_reply(out, Info{{"everything"}}, all);
  EXPECT_EQ(parse_one(out).str.substr(0, 8), "# Server");
  out.clear();
  append_info_reply(out, Info{{"nothing"}}, all);
  EXPECT_EQ(parse_one(out), Reply::bulk(""));
}

}  // namespace
}  // namespace raftkv::resp

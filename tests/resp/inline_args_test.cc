#include "resp/inline_args.h"

#include <gtest/gtest.h>

namespace raftkv::resp {
namespace {

using Args = std::vector<std::string>;

TEST(SplitInlineArgs, LikeRedisSdssplitargs) {
  struct Case {
    std::string line;
    Args args;
  };
  for (const Case& c : std::vector<Case>{
           {"", {}},
           {"   \t ", {}},
           {"PING", {"PING"}},
           {"  set  a   b ", {"set", "a", "b"}},
           {"set \"a b\" c", {"set", "a b", "c"}},
           {"set 'a b' c", {"set", "a b", "c"}},
           {"echo \"\\x41\\x4a\\n\\r\\t\\b\\a\\\\\\\"\"", {"echo", "AJ\n\r\t\b\a\\\""}},
           {"echo \"\\xZZ\"", {"echo", "xZZ"}},  // not a hex escape: \x is just x
           {"echo 'it\\'s' 'a\\nb'", {"echo", "it's", "a\\nb"}},
           {"echo \"\"", {"echo", ""}},
           {"echo ''", {"echo", ""}},
           {"a\"b c\" d", {"ab c", "d"}},
           {"a\vb", {"a\vb"}},
           {std::string("get a\0b", 7), {"get", "a"}},  // a C string ends at NUL
       }) {
    auto got = split_inline_args(c.line);
    ASSERT_TRUE(got.has_value()) << c.line;
    EXPECT_EQ(*got, c.args) << c.line;
  }
}

TEST(SplitInlineArgs, UnbalancedQuotes) {
  for (const char* line : {"\"abc", "'abc", "\"a\"b", "'a'b", "\"abc\\\"", "echo \"\\"}) {
    EXPECT_FALSE(split_inline_args(line).has_value()) << line;
  }
}

}  // namespace
}  // namespace raftkv::resp

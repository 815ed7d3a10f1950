#include "resp/number.h"

#include <gtest/gtest.h>

#include <limits>

namespace raftkv::resp {
namespace {

TEST(ParseInt64Strict, AcceptsWhatRedisAccepts) {
  EXPECT_EQ(parse_int64_strict("0"), 0);
  EXPECT_EQ(parse_int64_strict("7"), 7);
  EXPECT_EQ(parse_int64_strict("-15"), -15);
  EXPECT_EQ(parse_int64_strict("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parse_int64_strict("-9223372036854775808"), std::numeric_limits<int64_t>::min());
}

TEST(ParseInt64Strict, RefusesWhatRedisRefuses) {
  for (const char* s :
       {"", "-", "+1", " 1", "1 ", "01", "-0", "00", "1.0", "1e3", "0x10", "9223372036854775808",
        "-9223372036854775809", "99999999999999999999", "123456789012345678901", "abc"}) {
    EXPECT_FALSE(parse_int64_strict(s).has_value()) << s;
  }
}

}  // namespace
}  // namespace raftkv::resp

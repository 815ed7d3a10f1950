#include "resp/request_parser.h"

#include <gtest/gtest.h>

#include <chrono>
#include <random>

#include "resp/encode.h"

namespace raftkv::resp {
namespace {

using Args = std::vector<std::string>;

std::vector<Args> drain(RequestParser& p) {
  std::vector<Args> out;
  while (auto a = p.next()) out.push_back(std::move(*a));
  return out;
}

std::vector<Args> parse_in_chunks(std::string_view bytes, const std::vector<size_t>& sizes,
                                  RequestParser& p) {
  std::vector<Args> out;
  size_t at = 0;
  for (size_t n : sizes) {
    p.feed(bytes.substr(at, n));
    at += n;
    for (auto& a : drain(p)) out.push_back(std::move(a));
  }
  p.feed(bytes.substr(std::min(at, bytes.size())));
  for (auto& a : drain(p)) out.push_back(std::move(a));
  return out;
}

// A pipelined batch mixing what clients send: arrays of bulk strings
// (binary values, empty ones), empty arrays (skipped), inline commands.
struct Batch {
  std::string bytes;
  std::vector<Args> commands;
};

Batch sample_batch() {
  Batch b;
  auto add = [&](Args args) {
    append_bulk_array(b.bytes, args);
    b.commands.push_back(std::move(args));
  };
  add({"SET", "key:1", std::string("v\0\r\n\x01", 5)});
  add({"GET", "key:1"});
  b.bytes += "*0\r\n";  // Redis skips empty multibulk
  add({"SET", "", ""});
  b.bytes += "PING\r\n";
  b.commands.push_back({"PING"});
  b.bytes += "\r\n  \n";  // blank inline lines: skipped
  b.bytes += "set \"a b\" 'c d' e\n";
  b.commands.push_back({"set", "a b", "c d", "e"});
  add({"DEL", "a", "b", "c"});
  b.bytes += "*-1\r\n";
  b.bytes += "ECHO \"\\x41\\n\"\r\n";
  b.commands.push_back({"ECHO", "A\n"});
  add({"INCRBY", "n", "-5"});
  return b;
}

TEST(RequestParser, WholeBatch) {
  Batch b = sample_batch();
  RequestParser p;
  p.feed(b.bytes);
  EXPECT_EQ(drain(p), b.commands);
  EXPECT_FALSE(p.failed());
}

TEST(RequestParser, EverySplitPoint) {
  Batch b = sample_batch();
  for (size_t cut = 0; cut <= b.bytes.size(); ++cut) {
    RequestParser p;
    ASSERT_EQ(parse_in_chunks(b.bytes, {cut}, p), b.commands) << "cut at " << cut;
    ASSERT_FALSE(p.failed());
  }
}

TEST(RequestParser, EveryPairOfSplitPoints) {
  Batch b = sample_batch();
  for (size_t i = 0; i <= b.bytes.size(); ++i) {
    for (size_t j = i; j <= b.bytes.size(); ++j) {
      RequestParser p;
      ASSERT_EQ(parse_in_chunks(b.bytes, {i, j - i}, p), b.commands) << i << " " << j;
    }
  }
}

TEST(RequestParser, OneByteAtATime) {
  Batch b = sample_batch();
  RequestParser p;
  std::vector<size_t> ones(b.bytes.size(), 1);
  EXPECT_EQ(parse_in_chunks(b.bytes, ones, p), b.commands);
}

TEST(RequestParser, RandomChunks) {
  Batch b;
  for (int i = 0; i < 20; ++i) {
    Batch s = sample_batch();
    b.bytes += s.bytes;
    b.commands.insert(b.commands.end(), s.commands.begin(), s.commands.end());
  }
  std::mt19937 rng(11);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> sizes;
    for (size_t total = 0; total < b.bytes.size();) {
      sizes.push_back(std::uniform_int_distribution<size_t>(1, 64)(rng));
      total += sizes.back();
    }
    RequestParser p;
    ASSERT_EQ(parse_in_chunks(b.bytes, sizes, p), b.commands) << "round " << round;
  }
}

struct BadInput {
  std::string bytes;
  std::string error;
};

TEST(RequestParser, ProtocolErrorsUseRedisWording) {
  ParseLimits limits;
  limits.max_bulk_len = 100;
  limits.max_array_len = 10;
  limits.max_inline_len = 32;
  std::string long_line(40, 'a');
  for (const BadInput& b : std::vector<BadInput>{
           {"*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"},
           {"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"},
           {"*1\r\n$101\r\n", "ERR Protocol error: invalid bulk length"},
           {"*1\r\n$+1\r\n", "ERR Protocol error: invalid bulk length"},
           {"*1\r\n$01\r\n", "ERR Protocol error: invalid bulk length"},
           {"*1\r\n$1\n", "ERR Protocol error: invalid bulk length"},
           {"*x\r\n", "ERR Protocol error: invalid multibulk length"},
           {"*11\r\n", "ERR Protocol error: invalid multibulk length"},
           {"*99999999999999999999\r\n", "ERR Protocol error: invalid multibulk length"},
           {"*1\r\nxyz\r\n", "ERR Protocol error: expected '$', got 'x'"},
           {"*2\r\n$1\r\na\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"},
           {long_line, "ERR Protocol error: too big inline request"},
           {long_line + "\r\n", "ERR Protocol error: too big inline request"},
           {"*" + long_line, "ERR Protocol error: too big mbulk count string"},
           {"*1\r\n$" + long_line, "ERR Protocol error: too big bulk count string"},
           {"SET \"a b\r\n", "ERR Protocol error: unbalanced quotes in request"},
           {"SET 'a\r\n", "ERR Protocol error: unbalanced quotes in request"},
           {"SET \"a\"b\r\n", "ERR Protocol error: unbalanced quotes in request"},
           {"*1\r\n$1\r\nabc", "ERR Protocol error: bulk string not followed by CRLF"},
       }) {
    // Whole, and one byte at a time: the verdict must not depend on the split.
    RequestParser whole(limits), bytewise(limits);
    whole.feed(b.bytes);
    drain(whole);
    for (char c : b.bytes) {
      bytewise.feed(std::string_view(&c, 1));
      drain(bytewise);
    }
    for (RequestParser* p : {&whole, &bytewise}) {
      EXPECT_TRUE(p->failed()) << b.bytes;
      EXPECT_EQ(p->error(), b.error) << b.bytes;
    }
  }
}

TEST(RequestParser, CommandsBeforeAnErrorComeOutThenNothing) {
  RequestParser p;
  p.feed("PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n!oops\r\nPING\r\n");
  EXPECT_EQ(drain(p), (std::vector<Args>{{"PING"}, {"PING"}}));
  EXPECT_TRUE(p.failed());
  EXPECT_EQ(p.error(), "ERR Protocol error: expected '$', got '!'");
  p.feed("PING\r\n");
  EXPECT_FALSE(p.next().has_value());
  EXPECT_LT(p.buffered_bytes(), 64u);  // the input was dropped
}

TEST(RequestParser, InlineLimitIsExactAndSplitIndependent) {
  ParseLimits limits;
  limits.max_inline_len = 10;
  RequestParser over(limits);
  // The limit counts the bytes before '\n', CR included: 11 here.
  over.feed("GET 123456\r\n");
  drain(over);
  EXPECT_TRUE(over.failed());
  RequestParser fits(limits);
  fits.feed("GET 12345\r\n");  // 10 bytes before '\n'
  EXPECT_EQ(drain(fits), (std::vector<Args>{{"GET", "12345"}}));
}

TEST(RequestParser, AnnouncedHugeBulkAllocatesOnlyWhatArrived) {
  RequestParser p;  // default limits: 512 MiB bulk
  p.feed("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$500000000\r\n");
  p.feed(std::string(1000, 'x'));
  EXPECT_FALSE(p.next().has_value());
  EXPECT_FALSE(p.failed());
  EXPECT_LT(p.buffered_bytes(), 64u * 1024);
}

TEST(RequestParser, OversizedBulkIsRefusedWithoutAllocating) {
  RequestParser p;
  p.feed("*2\r\n$3\r\nGET\r\n$536870913\r\n");  // 512 MiB + 1
  EXPECT_FALSE(p.next().has_value());
  EXPECT_EQ(p.error(), "ERR Protocol error: invalid bulk length");
  EXPECT_LT(p.buffered_bytes(), 1024u);
}

TEST(RequestParser, HugeArrayCountAllocatesNothingUpFront) {
  RequestParser p;
  p.feed("*1048576\r\n$1\r\na\r\n");
  EXPECT_FALSE(p.next().has_value());
  EXPECT_FALSE(p.failed());
  EXPECT_LT(p.buffered_bytes(), 4096u);
}

TEST(RequestParser, BufferedBytesCountsFinishedArguments) {
  RequestParser p;
  std::string bytes = "*1000\r\n";
  for (int i = 0; i < 999; ++i) bytes += "$20\r\n01234567890123456789\r\n";
  p.feed(bytes);
  EXPECT_FALSE(p.next().has_value());
  EXPECT_GE(p.buffered_bytes(), 999u * 20);
  EXPECT_LE(p.buffered_bytes(), 4 * bytes.size());
  p.feed("$0\r\n\r\n");
  EXPECT_EQ(p.next()->size(), 1000u);
  // Only the input buffer's capacity stays (kept up to 64 KiB for reuse).
  EXPECT_LE(p.buffered_bytes(), 64u * 1024);
}

TEST(RequestParser, LargeValueMemoryFollowsReceivedBytes) {
  std::string value(3 << 20, 'v');
  std::string bytes;
  append_bulk_array(bytes, {"SET", "k", value});
  RequestParser p;
  size_t fed = 0;
  size_t worst_ratio_x100 = 0;
  while (fed < bytes.size()) {
    size_t n = std::min<size_t>(16384, bytes.size() - fed);
    p.feed(std::string_view(bytes).substr(fed, n));
    fed += n;
    if (fed < bytes.size()) {
      EXPECT_FALSE(p.next().has_value());
      worst_ratio_x100 = std::max(worst_ratio_x100, p.buffered_bytes() * 100 / fed);
    }
  }
  auto args = p.next();
  ASSERT_TRUE(args.has_value());
  EXPECT_EQ((*args)[2], value);
  // At most about twice what was received (string growth), never the
  // announced total up front.
  EXPECT_LE(worst_ratio_x100, 250u);
}

// Linear, not quadratic: a quadratic parser would need ~10^12 steps here.
TEST(RequestParser, LinearOnOneByteFeedsAndLargeBatches) {
  auto start = std::chrono::steady_clock::now();
  std::string big;
  append_bulk_array(big, {"SET", "k", std::string(1 << 20, 'x')});
  big += "GET " + std::string(60000, 'k') + "\r\n";  // long inline line
  RequestParser bytewise;
  size_t commands = 0;
  for (char c : big) {
    bytewise.feed(std::string_view(&c, 1));
    while (bytewise.next()) ++commands;
  }
  EXPECT_EQ(commands, 2u);

  std::string batch;
  for (int i = 0; i < 200000; ++i) append_bulk_array(batch, {"GET", "key:" + std::to_string(i)});
  RequestParser whole;
  whole.feed(batch);
  commands = 0;
  while (whole.next()) ++commands;
  EXPECT_EQ(commands, 200000u);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 20.0);
}

}  // namespace
}  // namespace raftkv::resp

namespace raftkv::resp {
namespace {

// Bytes captured from redis-cli 7.0 and redis-benchmark 7.0 (Debian 12's
// redis-tools) against a listener on 127.0.0.1; redis_tools_test.cc runs
// the tools themselves when they are installed.
TEST(RequestParser, RedisClientByteForms) {
  const std::string cli_set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
  const std::string cli_get_spaced = "*2\r\n$3\r\nGET\r\n$3\r\na b\r\n";
  const std::string bench_config =
      "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nsave\r\n"
      "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$10\r\nappendonly\r\n";
  const std::string bench_set = "*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n";
  const std::string bench_get = "*2\r\n$3\r\nGET\r\n$16\r\nkey:__rand_int__\r\n";
  std::string bytes = cli_set + cli_get_spaced + bench_config;
  for (int i = 0; i < 16; ++i) bytes += bench_set;  // -P 16: one write of 16 commands
  for (int i = 0; i < 16; ++i) bytes += bench_get;
  std::vector<std::vector<std::string>> want = {{"SET", "k", "v"},
                                                {"GET", "a b"},
                                                {"CONFIG", "GET", "save"},
                                                {"CONFIG", "GET", "appendonly"}};
  for (int i = 0; i < 16; ++i) want.push_back({"SET", "key:__rand_int__", "VXK"});
  for (int i = 0; i < 16; ++i) want.push_back({"GET", "key:__rand_int__"});
  for (size_t cut = 0; cut <= bytes.size(); ++cut) {
    RequestParser p;
    std::vector<std::vector<std::string>> got;
    p.feed(std::string_view(bytes).substr(0, cut));
    while (auto a = p.next()) got.push_back(*a);
    p.feed(std::string_view(bytes).substr(cut));
    while (auto a = p.next()) got.push_back(*a);
    ASSERT_EQ(got, want) << "cut at " << cut;
  }
}

}  // namespace
}  // namespace raftkv::resp

// Line splitting of stdin: lines may arrive in any chunking, and an
// oversized line must be skipped without buffering it while the next line
// still gets through.
#include "maelstrom/line_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace raftkv::maelstrom {
namespace {

struct Collector {
  explicit Collector(size_t max) : reader(max) {}
  LineReader reader;
  std::vector<std::string> lines;
  std::vector<size_t> oversized;
  std::vector<ParseResult> recovered;

  void feed(std::string_view bytes) {
    reader.feed(
        bytes, [&](std::string_view l) { lines.emplace_back(l); },
        [&](size_t n, const ParseResult& r) {
          oversized.push_back(n);
          recovered.push_back(r);
        });
  }
  void finish() {
    reader.finish([&](std::string_view l) { lines.emplace_back(l); },
                  [&](size_t n, const ParseResult& r) {
                    oversized.push_back(n);
                    recovered.push_back(r);
                  });
  }
};

using Lines = std::vector<std::string>;

TEST(LineReader, SplitsOneChunkIntoLines) {
  Collector c(100);
  c.feed("a\nbc\n\nd\n");
  EXPECT_EQ(c.lines, (Lines{"a", "bc", "", "d"}));
  EXPECT_TRUE(c.oversized.empty());
}

TEST(LineReader, JoinsLinesSplitAcrossFeeds) {
  Collector c(100);
  c.feed("ab");
  c.feed("c\nd");
  c.feed("e");
  c.feed("\n");
  c.feed("f\ng");
  EXPECT_EQ(c.lines, (Lines{"abc", "de", "f"}));
  c.finish();
  EXPECT_EQ(c.lines, (Lines{"abc", "de", "f", "g"}));
}

TEST(LineReader, EveryByteSeparately) {
  const std::string input = "{\"a\":1}\n{\"b\":2}\nlast";
  Collector c(100);
  for (char ch : input) c.feed(std::string_view(&ch, 1));
  c.finish();
  EXPECT_EQ(c.lines, (Lines{"{\"a\":1}", "{\"b\":2}", "last"}));
}

TEST(LineReader, LineAtTheLimitIsKept) {
  Collector c(4);
  c.feed("abcd\nab");
  c.feed("cd\n");
  EXPECT_EQ(c.lines, (Lines{"abcd", "abcd"}));
  EXPECT_TRUE(c.oversized.empty());
}

TEST(LineReader, OversizedLineDroppedAndReportedOnceNextLineDelivered) {
  Collector c(4);
  c.feed("ok\n0123456789\nnext\n");
  EXPECT_EQ(c.lines, (Lines{"ok", "next"}));
  EXPECT_EQ(c.oversized, (std::vector<size_t>{10}));
}

TEST(LineReader, OversizedLineAcrossManyFeedsReportedOnceWithItsSize) {
  Collector c(4);
  c.feed("ab");
  c.feed("cdef");  // crosses the limit here
  c.feed("ghij");
  c.feed("kl");
  c.feed("\nnext");
  c.feed("\n");
  EXPECT_EQ(c.lines, (Lines{"next"}));
  EXPECT_EQ(c.oversized, (std::vector<size_t>{12}));
}

TEST(LineReader, TwoOversizedLinesReportedSeparately) {
  Collector c(2);
  c.feed("aaaa\nbbbbbb\nc\n");
  EXPECT_EQ(c.lines, (Lines{"c"}));
  EXPECT_EQ(c.oversized, (std::vector<size_t>{4, 6}));
}

TEST(LineReader, FinalUnterminatedOversizedLineIsNotDelivered) {
  Collector c(4);
  c.feed("a\n0123456789");
  c.finish();
  EXPECT_EQ(c.lines, (Lines{"a"}));
}

// Issue 11: an oversized line with a msg_id got no reply. The reader keeps
// nothing of it but what an IdScanner recovers as it streams past, wherever
// in the line the ids are (Maelstrom puts msg_id after the value).
TEST(LineReader, OversizedLineRecoversIdsBeforeAndAfterTheBigValue) {
  const std::string big(5000, 'x');
  const std::string line = R"({"src":"c1","dest":"n1","body":{"type":"write","key":1,"value":")" +
                           big + R"(","msg_id":42}})";
  Collector c(1000);
  // In small chunks, as a pipe delivers it.
  std::string input = line + "\n{\"a\":1}\n";
  for (size_t i = 0; i < input.size(); i += 7) c.feed(std::string_view(input).substr(i, 7));
  ASSERT_EQ(c.oversized, (std::vector<size_t>{line.size()}));
  ASSERT_EQ(c.recovered.size(), 1u);
  const ParseResult& r = c.recovered[0];
  EXPECT_FALSE(r.message);
  EXPECT_EQ(r.src, "c1");
  EXPECT_EQ(r.dest, "n1");
  EXPECT_EQ(r.msg_id, 42);
  EXPECT_NE(r.error.find(std::to_string(line.size()) + " bytes"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("limit of 1000"), std::string::npos) << r.error;
  EXPECT_EQ(c.lines, (Lines{"{\"a\":1}"}));
}

TEST(LineReader, OversizedLinesDoNotLeakIdsIntoEachOther) {
  Collector c(30);
  std::string with_id = R"({"src":"c1","dest":"n1","body":{"msg_id":7,"v":"0123456789"}})";
  std::string without = R"({"src":"c2","dest":"n1","body":{"v":"0123456789012345678901234"}})";
  c.feed(with_id + "\n" + without + "\n");
  ASSERT_EQ(c.recovered.size(), 2u);
  EXPECT_EQ(c.recovered[0].msg_id, 7);
  EXPECT_EQ(c.recovered[1].src, "c2");
  EXPECT_EQ(c.recovered[1].msg_id, std::nullopt);
}

TEST(LineReader, FinalUnterminatedOversizedLineIsReportedAtFinish) {
  Collector c(10);
  c.feed(R"({"src":"c1","dest":"n1","body":{"msg_id":3,"type":"read"}})");
  EXPECT_TRUE(c.recovered.empty());
  c.finish();
  ASSERT_EQ(c.recovered.size(), 1u);
  EXPECT_EQ(c.recovered[0].msg_id, 3);
}

TEST(LineReader, FinishWithNothingPendingDeliversNothing) {
  Collector c(4);
  c.feed("a\n");
  c.finish();
  EXPECT_EQ(c.lines, (Lines{"a"}));
}

}  // namespace
}  // namespace raftkv::maelstrom

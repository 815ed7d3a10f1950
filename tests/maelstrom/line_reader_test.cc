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

  void feed(std::string_view bytes) {
    reader.feed(
        bytes, [&](std::string_view l) { lines.emplace_back(l); },
        [&](size_t n) { oversized.push_back(n); });
  }
  void finish() {
    reader.finish([&](std::string_view l) { lines.emplace_back(l); });
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

TEST(LineReader, FinishWithNothingPendingDeliversNothing) {
  Collector c(4);
  c.feed("a\n");
  c.finish();
  EXPECT_EQ(c.lines, (Lines{"a"}));
}

}  // namespace
}  // namespace raftkv::maelstrom

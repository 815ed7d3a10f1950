// The KV state machine over a real RocksDB store: every outcome of write,
// cas and log reads, including commands that see earlier ones in the same
// apply batch, and the applied index that makes restarts exact.
#include "kv/state_machine.h"

#include <gtest/gtest.h>

#include "storage/kv_store.h"
#include "temp_dir.h"

namespace raftkv::kv {
namespace {

using Code = Result::Code;
using Op = Command::Op;

// Keys and values are bytes to the state machine; these tests use JSON text
// as the Maelstrom adapter does.
std::string key(std::string_view json) {
  return std::string(json);
}

Command write(std::string_view k, std::string v) {
  return {Op::kWrite, key(k), std::move(v), "", false};
}
Command cas(std::string_view k, std::string from, std::string to, bool create = false) {
  return {Op::kCas, key(k), std::move(to), std::move(from), create};
}
Command read(std::string_view k) {
  return {Op::kRead, key(k), "", "", false};
}

class StateMachineTest : public ::testing::Test {
 protected:
  // Applies commands as one committed batch at the next log indexes.
  std::vector<Result> apply(const std::vector<Command>& cmds) {
    std::vector<raft::Entry> entries;
    for (const Command& c : cmds)
      entries.push_back({1, ++last_, raft::EntryType::kNormal, encode(c)});
    return sm_.apply(entries);
  }
  Result apply1(const Command& c) { return apply({c}).at(0); }
  std::optional<std::string> value(std::string_view k) { return sm_.read(key(k)); }

  testing::TempDir dir_;
  std::unique_ptr<storage::KvStore> store_ = std::make_unique<storage::KvStore>(dir_.path());
  StateMachine sm_{*store_};
  uint64_t last_ = 0;
};

TEST_F(StateMachineTest, WriteThenReadBack) {
  EXPECT_EQ(apply1(write("1", "10")).code, Code::kOk);
  EXPECT_EQ(value("1"), "10");
  EXPECT_EQ(apply1(write("1", R"("s")")).code, Code::kOk);
  EXPECT_EQ(value("1"), R"("s")");
}

TEST_F(StateMachineTest, CasSucceedsWhenFromMatches) {
  apply1(write("1", "1"));
  EXPECT_EQ(apply1(cas("1", "1", "2")).code, Code::kOk);
  EXPECT_EQ(value("1"), "2");
}

TEST_F(StateMachineTest, CasOnAbsentKeyIsKeyDoesNotExistAndWritesNothing) {
  Result r = apply1(cas("1", "1", "2"));
  EXPECT_EQ(r.code, Code::kKeyDoesNotExist);
  EXPECT_EQ(value("1"), std::nullopt);
}

TEST_F(StateMachineTest, CasMismatchReportsCurrentValueAndWritesNothing) {
  apply1(write("1", R"({"v":1})"));
  Result r = apply1(cas("1", "5", "6"));
  EXPECT_EQ(r.code, Code::kPreconditionFailed);
  EXPECT_EQ(r.current, R"({"v":1})");
  EXPECT_EQ(value("1"), R"({"v":1})");
}

TEST_F(StateMachineTest, CreateIfNotExistsCreatesAbsentKey) {
  EXPECT_EQ(apply1(cas("1", "99", "7", /*create=*/true)).code, Code::kOk);
  EXPECT_EQ(value("1"), "7");
  // Once the key exists the flag changes nothing: from must match.
  EXPECT_EQ(apply1(cas("1", "99", "8", true)).code, Code::kPreconditionFailed);
  EXPECT_EQ(apply1(cas("1", "7", "8", true)).code, Code::kOk);
  EXPECT_EQ(value("1"), "8");
}

// Equal values must arrive as equal bytes (the adapter's canonical text);
// the state machine compares bytes exactly.
TEST_F(StateMachineTest, CasComparesBytes) {
  apply1(write("1", R"({"a":1,"b":[1,{"c":2,"d":3}]})"));
  EXPECT_EQ(apply1(cas("1", R"({"a":1,"b":[1,{"c":2,"d":3}]})", "0")).code, Code::kOk);
  apply1(write("5", "1"));
  EXPECT_EQ(apply1(cas("5", "1.0", "0")).code, Code::kPreconditionFailed);
  // Arrays are ordered; strings are not numbers.
  apply1(write("2", "[1,2]"));
  EXPECT_EQ(apply1(cas("2", "[2,1]", "0")).code, Code::kPreconditionFailed);
  apply1(write("3", "1"));
  EXPECT_EQ(apply1(cas("3", R"("1")", "0")).code, Code::kPreconditionFailed);
  apply1(write("4", "null"));
  EXPECT_EQ(apply1(cas("4", "null", "0")).code, Code::kOk);
}

TEST_F(StateMachineTest, IntegerAndStringKeysAreDistinct) {
  EXPECT_NE(key("3"), key(R"("3")"));
  apply({write("3", R"("int")"), write(R"("3")", R"("str")")});
  EXPECT_EQ(value("3"), R"("int")");
  EXPECT_EQ(value(R"("3")"), R"("str")");
}

TEST_F(StateMachineTest, ReadOpReportsValueOrAbsence) {
  Result absent = apply1(read("1"));
  EXPECT_EQ(absent.code, Code::kKeyDoesNotExist);
  apply1(write("1", "null"));
  Result present = apply1(read("1"));
  EXPECT_EQ(present.code, Code::kOk);
  EXPECT_EQ(present.current, "null");  // a null value is still a value
}

TEST_F(StateMachineTest, NoopEntriesSucceedAndAdvanceAppliedIndex) {
  std::vector<Result> r =
      sm_.apply({{1, 1, raft::EntryType::kNoop, ""}, {2, 2, raft::EntryType::kNoop, ""}});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].code, Code::kOk);
  EXPECT_EQ(r[1].code, Code::kOk);
  EXPECT_EQ(sm_.applied_index(), 2u);
}

TEST_F(StateMachineTest, UndecodableEntryIsReportedNotApplied) {
  std::vector<Result> r = sm_.apply({{1, 1, raft::EntryType::kNormal, "garbage"}});
  EXPECT_EQ(r.at(0).code, Code::kInvalidCommand);
  EXPECT_EQ(sm_.applied_index(), 1u);
}

TEST_F(StateMachineTest, LaterCommandsInABatchSeeEarlierOnes) {
  std::vector<Result> r = apply({
      write("1", "1"),
      cas("1", "1", "2"),
      read("1"),
      cas("1", "1", "3"),  // stale: the batch already moved it to 2
      write("1", "4"),
      cas("2", "0", "5", true),
      cas("2", "5", "6"),
  });
  ASSERT_EQ(r.size(), 7u);
  EXPECT_EQ(r[0].code, Code::kOk);
  EXPECT_EQ(r[1].code, Code::kOk);
  EXPECT_EQ(r[2].code, Code::kOk);
  EXPECT_EQ(r[2].current, "2");
  EXPECT_EQ(r[3].code, Code::kPreconditionFailed);
  EXPECT_EQ(r[3].current, "2");
  EXPECT_EQ(r[4].code, Code::kOk);
  EXPECT_EQ(r[5].code, Code::kOk);
  EXPECT_EQ(r[6].code, Code::kOk);
  EXPECT_EQ(value("1"), "4");  // the last write of the batch wins on disk
  EXPECT_EQ(value("2"), "6");
}

TEST_F(StateMachineTest, AppliedIndexAdvancesAndSurvivesReopen) {
  EXPECT_EQ(sm_.applied_index(), 0u);
  EXPECT_TRUE(sm_.apply({}).empty());
  EXPECT_EQ(sm_.applied_index(), 0u);
  apply({write("1", "1"), write("2", "2")});
  EXPECT_EQ(sm_.applied_index(), 2u);
  apply1(cas("1", "9", "9"));  // a failed cas is still an applied entry
  EXPECT_EQ(sm_.applied_index(), 3u);

  store_.reset();
  storage::KvStore reopened(dir_.path());
  StateMachine sm(reopened);
  EXPECT_EQ(sm.applied_index(), 3u);
  EXPECT_EQ(sm.read(key("1")), "1");
  EXPECT_EQ(sm.read(key("2")), "2");
}

}  // namespace
}  // namespace raftkv::kv

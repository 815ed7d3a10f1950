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
  Command c;
  c.op = Op::kWrite;
  c.key = key(k);
  c.value = std::move(v);
  return c;
}
Command cas(std::string_view k, std::string from, std::string to, bool create = false) {
  Command c;
  c.op = Op::kCas;
  c.key = key(k);
  c.value = std::move(to);
  c.from = std::move(from);
  c.create_if_not_exists = create;
  return c;
}
Command read(std::string_view k) {
  Command c;
  c.op = Op::kRead;
  c.key = key(k);
  return c;
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

// ---- the Redis adapter's commands (raw byte keys) ----------------------------

Command set_command(std::string k, std::string v,
                    Command::Condition cond = Command::Condition::kNone, std::string from = "",
                    bool get = false) {
  Command c;
  c.op = Op::kSet;
  c.key = std::move(k);
  c.value = std::move(v);
  c.condition = cond;
  c.from = std::move(from);
  c.return_old = get;
  return c;
}
Command on_keys(Op op, std::vector<std::string> keys) {
  Command c;
  c.op = op;
  c.keys = std::move(keys);
  return c;
}
Command incr_command(std::string k, int64_t delta) {
  Command c;
  c.op = Op::kIncrBy;
  c.key = std::move(k);
  c.delta = delta;
  return c;
}
using Cond = Command::Condition;

TEST_F(StateMachineTest, SetConditionsDecideWhetherItWrites) {
  EXPECT_EQ(apply1(set_command("k", "1", Cond::kIfPresent)).number, 0);  // XX on absent
  EXPECT_EQ(sm_.read("k"), std::nullopt);
  EXPECT_EQ(apply1(set_command("k", "1", Cond::kIfEqual, "")).number, 0);  // IFEQ never creates
  EXPECT_EQ(sm_.read("k"), std::nullopt);
  EXPECT_EQ(apply1(set_command("k", "1", Cond::kIfAbsent)).number, 1);  // NX on absent
  EXPECT_EQ(apply1(set_command("k", "2", Cond::kIfAbsent)).number, 0);  // NX on present
  EXPECT_EQ(sm_.read("k"), "1");
  EXPECT_EQ(apply1(set_command("k", "3", Cond::kIfEqual, "2")).number, 0);
  EXPECT_EQ(apply1(set_command("k", "3", Cond::kIfEqual, "1")).number, 1);
  EXPECT_EQ(apply1(set_command("k", "4", Cond::kIfPresent)).number, 1);
  EXPECT_EQ(sm_.read("k"), "4");
}

TEST_F(StateMachineTest, SetGetReturnsTheOldValueOrNothing) {
  Result first = apply1(set_command("g", "a", Cond::kNone, "", true));
  EXPECT_EQ(first.code, Code::kOk);
  EXPECT_EQ(first.current, std::nullopt);
  Result failed = apply1(set_command("g", "b", Cond::kIfAbsent, "", true));
  EXPECT_EQ(failed.number, 0);
  EXPECT_EQ(failed.current, "a");  // the old value even when nothing was written
  EXPECT_EQ(apply1(set_command("g", "", Cond::kNone, "", true)).current, "a");
  EXPECT_EQ(apply1(set_command("g", "c", Cond::kNone, "", true)).current, "");  // empty is a value
}

TEST_F(StateMachineTest, DeleteCountsAndRemovesDurably) {
  apply({set_command("a", "1"), set_command("b", "2")});
  EXPECT_EQ(apply1(on_keys(Op::kDelete, {"a", "zz", "a", "b"})).number, 2);
  EXPECT_EQ(sm_.read("a"), std::nullopt);
  EXPECT_EQ(apply1(on_keys(Op::kExists, {"a", "b"})).number, 0);
  apply1(set_command("a", "back"));
  EXPECT_EQ(apply1(on_keys(Op::kExists, {"a", "a", "b"})).number, 2);  // named twice: twice
  store_->sync();
  store_.reset();
  storage::KvStore reopened(dir_.path());
  EXPECT_EQ(reopened.get("a"), "back");
  EXPECT_EQ(reopened.get("b"), std::nullopt);
}

TEST_F(StateMachineTest, DeleteAndSetInOneBatchSeeEachOther) {
  std::vector<Result> r =
      apply({set_command("k", "1"), on_keys(Op::kDelete, {"k"}),
             set_command("k", "2", Cond::kIfAbsent), on_keys(Op::kDelete, {"k"})});
  EXPECT_EQ(r[1].number, 1);
  EXPECT_EQ(r[2].number, 1);
  EXPECT_EQ(r[3].number, 1);
  EXPECT_EQ(sm_.read("k"), std::nullopt);
}

TEST_F(StateMachineTest, IncrByFollowsRedisIntegerRules) {
  EXPECT_EQ(apply1(incr_command("n", 5)).number, 5);  // absent counts as 0
  EXPECT_EQ(apply1(incr_command("n", -7)).number, -2);
  EXPECT_EQ(sm_.read("n"), "-2");
  for (std::string bad : {"x", "", " 1", "+1", "01", "-0", "1.5", "99999999999999999999"}) {
    apply1(set_command("b", bad));
    Result r = apply1(incr_command("b", 1));
    EXPECT_EQ(r.code, Code::kNotAnInteger) << bad;
    EXPECT_EQ(sm_.read("b"), bad);  // untouched
  }
  apply1(set_command("max", "9223372036854775807"));
  EXPECT_EQ(apply1(incr_command("max", 1)).code, Code::kNotAnInteger);
  EXPECT_EQ(apply1(incr_command("max", -1)).number, 9223372036854775806);
}

}  // namespace
}  // namespace raftkv::kv

// One contract suite (log_storage.h, kv_storage.h) run against both
// implementations: RocksDB (LogStore/KvStore in a temp dir, real fsync; a
// crash closes and reopens the stores) and the simulation's in-memory stores
// (a crash is crash(rng), which drops unsynced state). The RocksDB stores are
// also SIGKILLed mid-history in a child process (contract_crash_child).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "contract_model.h"
#include "storage/kv_store.h"
#include "storage/log_store.h"
#include "storage/memory_kv_store.h"
#include "storage/memory_log_store.h"
#include "temp_dir.h"

extern char** environ;

namespace raftkv::storage {
namespace {

using contract::KvModel;
using contract::KvOp;
using contract::LogOp;
using raft::Entry;
using raft::EntryType;
using raft::HardState;

// ---- the two implementations behind one face ------------------------------------

class RocksBackend {
 public:
  static constexpr const char* kName = "RocksDB";
  // Histories per randomized test: each costs real fsyncs and opens.
  static constexpr int kHistories = 4;
  explicit RocksBackend(uint64_t /*seed*/) { open(); }
  LogStorage& log() { return *log_; }
  KvStorage& kv() { return *kv_; }
  // Close and reopen: a clean crash of the process (nothing written is
  // lost, which the contract allows). The SIGKILL tests below kill for real.
  void crash() {
    log_.reset();
    kv_.reset();
    open();
  }

 private:
  void open() {
    log_ = std::make_unique<LogStore>(dir_.sub("log"));
    kv_ = std::make_unique<KvStore>(dir_.sub("kv"));
  }
  testing::TempDir dir_;
  std::unique_ptr<LogStore> log_;
  std::unique_ptr<KvStore> kv_;
};

class MemoryBackend {
 public:
  static constexpr const char* kName = "Memory";
  static constexpr int kHistories = 300;
  explicit MemoryBackend(uint64_t seed) : rng_(seed) {}
  LogStorage& log() { return log_; }
  KvStorage& kv() { return kv_; }
  void crash() {
    log_.crash(rng_);
    kv_.crash(rng_);
  }

 private:
  std::mt19937_64 rng_;
  MemoryLogStore log_;
  MemoryKvStore kv_;
};

template <typename B>
class StorageContract : public ::testing::Test {};

struct BackendNames {
  template <typename B>
  static std::string GetName(int) {
    return B::kName;
  }
};
using Backends = ::testing::Types<RocksBackend, MemoryBackend>;
TYPED_TEST_SUITE(StorageContract, Backends, BackendNames);

std::vector<Entry> entries(uint64_t first, uint64_t last, uint64_t term) {
  std::vector<Entry> out;
  for (uint64_t i = first; i <= last; ++i) {
    out.push_back({term, i, EntryType::kNormal, fmt::format("e{}t{}", i, term)});
  }
  return out;
}

// The seeds a test runs: many for the in-memory store, whose crashes are
// random, a few for RocksDB.
template <typename B>
std::vector<uint64_t> seeds(int n = B::kHistories) {
  std::vector<uint64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(1000 + i);
  return out;
}

// ---- log: durability ---------------------------------------------------------------

TYPED_TEST(StorageContract, LogSyncedSaveSurvivesCrash) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    b.log().load();
    b.log().save(HardState{1, "n1", 0}, entries(1, 5, 1));
    b.log().save(std::nullopt, entries(6, 7, 1));
    b.crash();
    raft::Restored r = b.log().load();
    EXPECT_EQ(r.hard_state.term, 1u);
    EXPECT_EQ(r.hard_state.vote, "n1");
    EXPECT_EQ(r.entries, entries(1, 7, 1));
    EXPECT_EQ(b.log().first_index(), 1u);
    EXPECT_EQ(b.log().last_index(), 7u);
  }
}

// Every entry type comes back as it went in (a store that knew only some
// refused to open a log holding a configuration entry).
TYPED_TEST(StorageContract, LogKeepsEveryEntryType) {
  TypeParam b(1);
  b.log().load();
  std::vector<Entry> es = {{1, 1, EntryType::kNoop, ""},
                           {1, 2, EntryType::kNormal, "cmd"},
                           {1, 3, EntryType::kConfig, "M1|2:n1v0:"}};
  b.log().save(HardState{1, "n1", 0}, es);
  b.crash();
  EXPECT_EQ(b.log().load().entries, es);
}

TYPED_TEST(StorageContract, LogTermOrVoteChangeAloneIsDurable) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    b.log().load();
    b.log().save(HardState{3, "", 0}, {});
    b.log().save(HardState{3, "n2", 0}, {});
    b.crash();
    EXPECT_EQ(b.log().load().hard_state, (HardState{3, "n2", 0}));
    b.log().save(HardState{4, "", 0}, {});
    b.crash();
    EXPECT_EQ(b.log().load().hard_state, (HardState{4, "", 0}));
  }
}

// Commit-only saves and compactions need not be durable, but a crash keeps
// a prefix of them: never a later one without the earlier ones.
TYPED_TEST(StorageContract, LogUnsyncedOpsAreLostOnlyAsASuffix) {
  std::vector<LogOp> ops;
  ops.push_back({LogOp::Kind::kSave, HardState{2, "n1", 0}, entries(1, 12, 2), 0, 0, true});
  auto commit = [&](uint64_t c) {
    ops.push_back({LogOp::Kind::kSave, HardState{2, "n1", c}, {}, 0, 0, false});
  };
  auto compact = [&](uint64_t i) { ops.push_back({LogOp::Kind::kCompact, {}, {}, i, 2, false}); };
  commit(2);
  compact(1);
  commit(5);
  compact(4);
  commit(7);
  commit(9);
  compact(8);
  std::set<int> kept;
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    b.log().load();
    for (const LogOp& op : ops) contract::run(b.log(), op);
    b.crash();
    raft::Restored r = b.log().load();
    int k = contract::find_log_prefix(ops, ops.size(), r);
    ASSERT_GE(k, 0) << "seed " << seed << ": the log after a crash is no prefix of the history";
    kept.insert(k);
  }
  if (std::string(TypeParam::kName) == "Memory") {
    // The model must really lose things, or this suite proves nothing
    // about the simulation.
    EXPECT_GT(kept.size(), 3u);
  }
}

TYPED_TEST(StorageContract, LogSyncedSaveMakesEarlierUnsyncedOpsDurable) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    b.log().load();
    b.log().save(HardState{1, "n1", 0}, entries(1, 6, 1));
    b.log().save(HardState{1, "n1", 4}, {});
    b.log().compact(3, 1);
    b.log().save(HardState{2, "", 4}, {});  // term change: synced
    b.crash();
    raft::Restored r = b.log().load();
    EXPECT_EQ(r.hard_state, (HardState{2, "", 4}));
    EXPECT_EQ(r.base_index, 3u);
    EXPECT_EQ(r.base_term, 1u);
    EXPECT_EQ(r.entries, entries(4, 6, 1));
  }
}

TYPED_TEST(StorageContract, LogSaveReplacesTheWholeSuffix) {
  TypeParam b(1);
  b.log().load();
  b.log().save(HardState{1, "n1", 2}, entries(1, 10, 1));
  b.log().save(HardState{2, "n2", 2}, entries(5, 6, 2));
  EXPECT_EQ(b.log().last_index(), 6u);
  auto want = entries(1, 4, 1);
  for (const Entry& e : entries(5, 6, 2)) want.push_back(e);
  EXPECT_EQ(b.log().load().entries, want);
  b.crash();
  EXPECT_EQ(b.log().load().entries, want);
  EXPECT_EQ(b.log().last_index(), 6u);
  // Appending after the replacement continues at 7.
  b.log().save(std::nullopt, entries(7, 7, 2));
  b.crash();
  EXPECT_EQ(b.log().load().entries.back(), entries(7, 7, 2)[0]);
}

TYPED_TEST(StorageContract, LogCompactDropsThePrefixAndKeepsTheBase) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    b.log().load();
    b.log().save(HardState{1, "n1", 8}, entries(1, 10, 1));
    b.log().compact(4, 1);
    EXPECT_EQ(b.log().first_index(), 5u);
    EXPECT_EQ(b.log().last_index(), 10u);
    raft::Restored r = b.log().load();
    EXPECT_EQ(r.base_index, 4u);
    EXPECT_EQ(r.base_term, 1u);
    EXPECT_EQ(r.entries, entries(5, 10, 1));
    b.log().compact(2, 1);  // behind the base: no-op
    EXPECT_EQ(b.log().first_index(), 5u);
    EXPECT_EQ(b.log().load().base_index, 4u);
    // Not necessarily durable; after a crash either base is fine, and the
    // log stays whole from it.
    b.crash();
    r = b.log().load();
    ASSERT_TRUE(r.base_index == 0 || r.base_index == 4) << r.base_index;
    EXPECT_EQ(r.entries, entries(r.base_index + 1, 10, 1));
    EXPECT_EQ(b.log().first_index(), r.base_index + 1);
  }
}

TYPED_TEST(StorageContract, LogResetToSnapshotIsDurableAndReplacesTheLog) {
  for (uint64_t seed : seeds<TypeParam>()) {
    for (uint64_t at : {3u, 10u, 25u}) {  // inside, at the end of, past the log
      TypeParam b(seed);
      b.log().load();
      b.log().save(HardState{1, "n1", 2}, entries(1, 10, 1));
      b.log().compact(1, 1);
      b.log().reset_to_snapshot(at, 3, HardState{3, "n3", at});
      EXPECT_EQ(b.log().first_index(), at + 1);
      EXPECT_EQ(b.log().last_index(), at);
      EXPECT_EQ(b.log().hard_state(), (HardState{3, "n3", at}));
      b.crash();
      raft::Restored r = b.log().load();
      EXPECT_EQ(r.hard_state, (HardState{3, "n3", at}));
      EXPECT_EQ(r.base_index, at);
      EXPECT_EQ(r.base_term, 3u);
      EXPECT_TRUE(r.entries.empty());
      // The log continues after the snapshot point.
      b.log().save(std::nullopt, entries(at + 1, at + 2, 3));
      b.crash();
      r = b.log().load();
      EXPECT_EQ(r.base_index, at);
      EXPECT_EQ(r.entries, entries(at + 1, at + 2, 3));
    }
  }
}

TYPED_TEST(StorageContract, LogRandomHistoriesLoadExactlyAndCrashToAPrefix) {
  for (uint64_t seed : seeds<TypeParam>()) {
    size_t n = std::string(TypeParam::kName) == "Memory" ? 150 : 60;
    auto ops = contract::generate_log_ops(seed, n);
    std::mt19937_64 rng(seed);
    size_t crash_at = rng() % (n + 1);
    TypeParam b(seed);
    b.log().load();
    contract::LogModel m;
    for (size_t i = 0; i < crash_at; ++i) {
      contract::run(b.log(), ops[i]);
      apply(m, ops[i]);
      ASSERT_EQ(b.log().hard_state(), m.hs) << "seed " << seed << " op " << i;
      ASSERT_EQ(b.log().first_index(), m.base_index + 1) << "seed " << seed << " op " << i;
      ASSERT_EQ(b.log().last_index(), m.last_index()) << "seed " << seed << " op " << i;
    }
    // Without a crash, load() returns exactly what was saved.
    ASSERT_TRUE(m.matches(b.log().load())) << "seed " << seed;
    b.crash();
    raft::Restored r = b.log().load();
    int k = contract::find_log_prefix(ops, crash_at, r);
    ASSERT_GE(k, 0) << "seed " << seed << ": crash after " << crash_at << " ops left no prefix";
    EXPECT_EQ(b.log().last_index(), r.base_index + r.entries.size());
  }
}

// After a restart, before load(), the store already reports where it is:
// save() decides what to sync against hard_state().
TYPED_TEST(StorageContract, LogReportsItsStateAfterACrashEvenBeforeLoad) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    b.log().load();
    b.log().save(HardState{2, "n1", 0}, entries(1, 8, 2));
    b.log().save(HardState{2, "n1", 6}, {});
    b.log().compact(3, 2);
    b.crash();
    HardState hs = b.log().hard_state();
    uint64_t first = b.log().first_index(), last = b.log().last_index();
    raft::Restored r = b.log().load();
    EXPECT_EQ(hs, r.hard_state) << "seed " << seed;
    EXPECT_EQ(first, r.base_index + 1) << "seed " << seed;
    EXPECT_EQ(last, r.base_index + r.entries.size()) << "seed " << seed;
  }
}

// ---- log: load() validation --------------------------------------------------------

template <typename B>
void expect_load_refuses(B& b, const std::string& what) {
  try {
    b.log().load();
    ADD_FAILURE() << "load() accepted a log it should refuse (" << what << ")";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TYPED_TEST(StorageContract, LoadRefusesAGapInTheLog) {
  TypeParam b(1);
  b.log().load();
  b.log().save(HardState{1, "n1", 0}, entries(1, 3, 1));
  b.log().save(std::nullopt, entries(5, 6, 1));
  expect_load_refuses(b, "contiguous");
  b.crash();
  expect_load_refuses(b, "contiguous");
}

TYPED_TEST(StorageContract, LoadRefusesTermsGoingBackwards) {
  TypeParam b(1);
  b.log().load();
  b.log().save(HardState{2, "n1", 0}, entries(1, 3, 2));
  b.log().save(std::nullopt, entries(4, 4, 1));
  expect_load_refuses(b, "term goes backwards");
  b.crash();
  expect_load_refuses(b, "term goes backwards");
}

TYPED_TEST(StorageContract, LoadRefusesTermsBelowTheSnapshotTerm) {
  TypeParam b(1);
  b.log().load();
  b.log().reset_to_snapshot(5, 3, HardState{3, "", 5});
  b.log().save(std::nullopt, entries(6, 6, 2));
  expect_load_refuses(b, "term goes backwards");
}

TYPED_TEST(StorageContract, LoadRefusesCommitBeyondTheLastIndex) {
  TypeParam b(1);
  b.log().load();
  b.log().save(HardState{1, "n1", 9}, entries(1, 3, 1));
  expect_load_refuses(b, "commit index");
  b.crash();
  expect_load_refuses(b, "commit index");
}

// ---- log: identity and counters ----------------------------------------------------

// Out of line: GCC 12 reports a false -Wmaybe-uninitialized when the
// in-memory store's optional is copied inline.
[[gnu::noinline]] std::optional<ClusterIdentity> identity_of(LogStorage& log) {
  return log.identity();
}

TYPED_TEST(StorageContract, IdentityIsDurable) {
  TypeParam b(1);
  EXPECT_FALSE(identity_of(b.log()).has_value());
  ClusterIdentity id{"n2", {"n1", "n2", "n3"}};
  b.log().set_identity(id);
  EXPECT_EQ(identity_of(b.log()), id);
  b.crash();
  EXPECT_EQ(identity_of(b.log()), id);
  ClusterIdentity other{"n5", {"n5"}};
  b.log().set_identity(other);
  b.crash();
  EXPECT_EQ(identity_of(b.log()), other);
}

TYPED_TEST(StorageContract, SyncCountersCountSyncedSavesOnly) {
  TypeParam b(1);
  b.log().load();
  uint64_t s0 = b.log().syncs(), e0 = b.log().synced_entries();
  b.log().save(HardState{1, "n1", 0}, entries(1, 4, 1));
  EXPECT_EQ(b.log().syncs(), s0 + 1);
  EXPECT_EQ(b.log().synced_entries(), e0 + 4);
  b.log().save(HardState{1, "n1", 3}, {});  // commit only
  EXPECT_EQ(b.log().syncs(), s0 + 1);
  EXPECT_EQ(b.log().hard_state(), (HardState{1, "n1", 3}));  // last saved, durable or not
  b.log().save(HardState{2, "", 3}, {});
  EXPECT_EQ(b.log().syncs(), s0 + 2);
  EXPECT_EQ(b.log().synced_entries(), e0 + 4);
}

// ---- kv: apply, sync, crash ----------------------------------------------------------

KvModel model(std::map<std::string, std::string> data, uint64_t applied, uint64_t term) {
  return KvModel{std::move(data), applied, term};
}

TYPED_TEST(StorageContract, KvApplyMovesTheAppliedPointWithItsData) {
  TypeParam b(1);
  EXPECT_EQ(b.kv().applied_index(), 0u);
  b.kv().apply({{"a", "1"}}, 1, 1);
  b.kv().apply({{"b", std::string("x\0y", 3)}, {"a", "3"}}, 2, 1);
  b.kv().apply({}, 3, 2);  // a no-op entry moves the applied point only
  EXPECT_EQ(b.kv().get("a"), "3");
  EXPECT_EQ(b.kv().get("b"), std::string("x\0y", 3));
  EXPECT_EQ(b.kv().get("c"), std::nullopt);
  EXPECT_EQ(b.kv().applied_index(), 3u);
  EXPECT_EQ(b.kv().applied_term(), 2u);
  EXPECT_EQ(contract::dump(b.kv()), model({{"a", "3"}, {"b", std::string("x\0y", 3)}}, 3, 2));
}

TYPED_TEST(StorageContract, KvDeletesAreAppliedInOrderAndSurviveACrashOnceSynced) {
  TypeParam b(1);
  b.kv().apply({{"a", "1"}, {"b", "2"}, {"c", "3"}}, 1, 1);
  // One batch may name a key more than once: the last write wins.
  b.kv().apply({{"a", std::nullopt}, {"b", std::nullopt}, {"b", "again"}, {"gone", std::nullopt}},
               2, 1);
  EXPECT_EQ(b.kv().get("a"), std::nullopt);
  EXPECT_EQ(b.kv().get("b"), "again");
  b.kv().sync();
  b.crash();
  EXPECT_EQ(contract::dump(b.kv()), model({{"b", "again"}, {"c", "3"}}, 2, 1));
  auto reader = b.kv().read_snapshot();  // a snapshot has no deleted keys either
  storage::KvPairs all;
  while (!reader->done()) {
    for (auto& p : reader->next_chunk(1 << 20)) all.push_back(p);
  }
  EXPECT_EQ(all, (storage::KvPairs{{"b", "again"}, {"c", "3"}}));
}

TYPED_TEST(StorageContract, KvSyncMakesEveryEarlierApplyDurable) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    for (uint64_t i = 1; i <= 20; ++i)
      b.kv().apply({{fmt::format("k{}", i % 7), std::to_string(i)}}, i, 1);
    b.kv().sync();
    KvModel want = contract::dump(b.kv());
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), want);
    EXPECT_EQ(b.kv().applied_index(), 20u);
    EXPECT_EQ(b.kv().get("k6"), "20");
  }
}

TYPED_TEST(StorageContract, KvRandomHistoriesCrashToAPrefix) {
  std::set<int> lost;
  for (uint64_t seed : seeds<TypeParam>()) {
    size_t n = std::string(TypeParam::kName) == "Memory" ? 150 : 80;
    auto ops = contract::generate_kv_ops(seed, n);
    std::mt19937_64 rng(seed);
    size_t crash_at = rng() % (n + 1);
    TypeParam b(seed);
    contract::KvRunner runner(b.kv());
    contract::KvModelState s;
    for (size_t i = 0; i < crash_at; ++i) {
      runner.run(ops[i]);
      apply(s, ops[i]);
      ASSERT_EQ(b.kv().applied_index(), s.map.applied) << "seed " << seed << " op " << i;
    }
    ASSERT_EQ(contract::dump(b.kv()), s.map) << "seed " << seed;
    ASSERT_EQ(b.kv().membership(), s.map.membership) << "seed " << seed;
    for (const auto& [k, v] : s.map.data) ASSERT_EQ(b.kv().get(k), v) << "seed " << seed;
    runner.drop_writer();
    b.crash();
    KvModel got = contract::dump(b.kv());
    int k = contract::find_kv_prefix(ops, crash_at, got);
    ASSERT_GE(k, 0) << "seed " << seed << ": crash after " << crash_at << " ops left no prefix";
    EXPECT_EQ(b.kv().applied_index(), got.applied);
    EXPECT_EQ(b.kv().applied_term(), got.applied_term);
    EXPECT_EQ(b.kv().membership(), got.membership);
    for (const auto& [key, v] : got.data) EXPECT_EQ(b.kv().get(key), v);
    if (static_cast<size_t>(k) < crash_at) lost.insert(k);
  }
  if (std::string(TypeParam::kName) == "Memory") {
    EXPECT_GT(lost.size(), 10u);
  }
}

// ---- kv: snapshot reading ------------------------------------------------------------

TYPED_TEST(StorageContract, KvReaderOfAnEmptyStoreIsDone) {
  TypeParam b(1);
  auto r = b.kv().read_snapshot();
  EXPECT_TRUE(r->done());
  EXPECT_EQ(r->index(), 0u);
  EXPECT_TRUE(r->next_chunk(100).empty());
}

TYPED_TEST(StorageContract, KvReaderKeepsOneViewWhileLaterAppliesAndInstallsHappen) {
  TypeParam b(1);
  std::map<std::string, std::string> before;
  for (int i = 0; i < 200; i += 2) {
    std::string k = fmt::format("k{:03}", i);
    before[k] = fmt::format("v{}", i);
    b.kv().apply({{k, before[k]}}, i / 2 + 1, 1);
  }
  auto r = b.kv().read_snapshot();
  EXPECT_EQ(r->index(), 100u);
  EXPECT_EQ(r->term(), 1u);
  std::map<std::string, std::string> seen;
  for (auto& [k, v] : r->next_chunk(100)) seen[k] = v;
  // Overwrite every key, add keys before and after the cursor, then
  // replace the whole map with an install.
  uint64_t idx = 100;
  for (int i = 0; i < 200; ++i) b.kv().apply({{fmt::format("k{:03}", i), "new"}}, ++idx, 2);
  b.kv().apply({{"a-first", "x"}, {"z-last", "y"}}, ++idx, 2);
  b.kv().sync();
  b.kv().install_snapshot({{"only", "this"}}, idx + 10, 3);
  b.kv().apply({{"k100", "newer"}}, idx + 11, 3);
  while (!r->done()) {
    auto chunk = r->next_chunk(100);
    ASSERT_FALSE(chunk.empty());
    for (auto& [k, v] : chunk) seen[k] = v;
  }
  EXPECT_EQ(seen, before);
  EXPECT_EQ(r->index(), 100u);
  // The store itself moved on.
  EXPECT_EQ(b.kv().get("only"), "this");
  EXPECT_EQ(b.kv().get("k000"), std::nullopt);
}

TYPED_TEST(StorageContract, KvReaderChunksAreBoundedByMaxBytes) {
  TypeParam b(1);
  std::mt19937_64 rng(7);
  std::map<std::string, std::string> all;
  uint64_t idx = 0;
  for (int i = 0; i < 300; ++i) {
    std::string k = fmt::format("key{}", rng() % 100000);
    std::string v = contract::random_bytes(rng, i % 50 == 0 ? 5000 : 300);
    all[k] = v;
    b.kv().apply({{k, v}}, ++idx, 1);
  }
  for (size_t max_bytes :
       {size_t{0}, size_t{1}, size_t{64}, size_t{1000}, size_t{4096}, size_t{1} << 20}) {
    auto r = b.kv().read_snapshot();
    std::vector<std::pair<std::string, std::string>> got;
    int chunks = 0;
    while (!r->done()) {
      KvPairs c = r->next_chunk(max_bytes);
      ASSERT_FALSE(c.empty()) << "max_bytes " << max_bytes << ": empty chunk before done()";
      size_t bytes = 0;
      for (const auto& [k, v] : c) bytes += k.size() + v.size();
      // At most max_bytes of keys and values, unless a single pair alone
      // is bigger.
      EXPECT_TRUE(bytes <= max_bytes || c.size() == 1)
          << "max_bytes " << max_bytes << ": chunk of " << c.size() << " pairs, " << bytes
          << " bytes";
      got.insert(got.end(), c.begin(), c.end());
      ASSERT_LT(++chunks, 10000);
    }
    EXPECT_TRUE(r->next_chunk(max_bytes).empty());
    std::vector<std::pair<std::string, std::string>> want(all.begin(), all.end());
    EXPECT_EQ(got, want) << "max_bytes " << max_bytes << ": not the map in key order";
    if (max_bytes == (size_t{1} << 20)) {
      EXPECT_EQ(chunks, 1);
    }
  }
}

// ---- kv: snapshot installing -----------------------------------------------------------

template <typename B>
void fill_old_map(B& b) {
  b.kv().apply({{"old1", "a"}, {"shared", "old"}}, 1, 1);
  b.kv().apply({{"old2", "b"}}, 2, 1);
  b.kv().sync();
}
const KvModel kOld = KvModel{{{"old1", "a"}, {"old2", "b"}, {"shared", "old"}}, 2, 1};

TYPED_TEST(StorageContract, KvWriterIsInvisibleUntilCommit) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    fill_old_map(b);
    auto w = b.kv().begin_snapshot(50, 4);
    w->add({{"new1", "x"}, {"shared", "new"}});
    EXPECT_EQ(b.kv().get("new1"), std::nullopt);
    EXPECT_EQ(b.kv().get("shared"), "old");
    EXPECT_EQ(b.kv().applied_index(), 2u);
    EXPECT_EQ(contract::dump(b.kv()), kOld);
    w->add({{"new2", "y"}});
    EXPECT_EQ(contract::dump(b.kv()), kOld);
    w.reset();
    b.crash();  // a crash mid-install leaves the old map
    EXPECT_EQ(contract::dump(b.kv()), kOld);
  }
}

TYPED_TEST(StorageContract, KvCommitReplacesTheMapEntirelyAndIsDurable) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    fill_old_map(b);
    b.kv().apply({{"unsynced", "z"}}, 3, 1);
    auto w = b.kv().begin_snapshot(50, 4);
    w->add({{"new1", "x"}, {"shared", "new"}});
    w->add({});
    w->add({{"new2", "y"}});
    w->commit();
    KvModel want{{{"new1", "x"}, {"new2", "y"}, {"shared", "new"}}, 50, 4};
    EXPECT_EQ(contract::dump(b.kv()), want);
    EXPECT_EQ(b.kv().get("old1"), std::nullopt);
    EXPECT_EQ(b.kv().get("unsynced"), std::nullopt);
    EXPECT_EQ(b.kv().applied_index(), 50u);
    EXPECT_EQ(b.kv().applied_term(), 4u);
    w.reset();
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), want);
    // Applies continue on the new map; a second install flips back.
    b.kv().apply({{"after", "1"}}, 51, 4);
    b.kv().sync();
    b.crash();
    want.data["after"] = "1";
    want.applied = 51;
    EXPECT_EQ(contract::dump(b.kv()), want);
    b.kv().install_snapshot({{"third", "3"}}, 60, 5);
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), (KvModel{{{"third", "3"}}, 60, 5}));
    b.kv().install_snapshot({}, 70, 5);  // an empty map is a map too
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), (KvModel{{}, 70, 5}));
  }
}

TYPED_TEST(StorageContract, KvAbandonedWriterLeavesTheOldMapAndNoResidue) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    fill_old_map(b);
    {
      auto w = b.kv().begin_snapshot(50, 4);
      w->add({{"abandoned", "x"}, {"old1", "overwritten"}});
    }
    EXPECT_EQ(contract::dump(b.kv()), kOld);
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), kOld);
    // The next install holds only its own pairs.
    {
      auto w = b.kv().begin_snapshot(60, 4);
      w->add({{"fresh", "y"}});
      w->commit();
    }
    KvModel want{{{"fresh", "y"}}, 60, 4};
    EXPECT_EQ(contract::dump(b.kv()), want);
    EXPECT_EQ(b.kv().get("abandoned"), std::nullopt);
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), want);
    // An abandoned install into the other slot leaves no residue either.
    {
      auto w = b.kv().begin_snapshot(70, 4);
      w->add({{"abandoned2", "x"}});
    }
    b.kv().install_snapshot({{"last", "z"}}, 80, 4);
    EXPECT_EQ(contract::dump(b.kv()), (KvModel{{{"last", "z"}}, 80, 4}));
  }
}

TYPED_TEST(StorageContract, KvSupersededWriterThrows) {
  TypeParam b(1);
  fill_old_map(b);
  auto first = b.kv().begin_snapshot(50, 4);
  first->add({{"from-first", "x"}});
  auto second = b.kv().begin_snapshot(60, 4);
  EXPECT_THROW(first->add({{"late", "x"}}), StorageError);
  EXPECT_THROW(first->commit(), StorageError);
  EXPECT_EQ(contract::dump(b.kv()), kOld);
  second->add({{"from-second", "y"}});
  second->commit();
  EXPECT_EQ(contract::dump(b.kv()), (KvModel{{{"from-second", "y"}}, 60, 4}));
  // A committed writer is spent too.
  EXPECT_THROW(second->add({{"again", "z"}}), StorageError);
  EXPECT_THROW(second->commit(), StorageError);
  EXPECT_EQ(contract::dump(b.kv()), (KvModel{{{"from-second", "y"}}, 60, 4}));
}

// ---- kv: membership ------------------------------------------------------------------

TYPED_TEST(StorageContract, KvMembershipIsAbsentOnAFreshStore) {
  TypeParam b(1);
  EXPECT_EQ(b.kv().membership(), std::nullopt);
  EXPECT_EQ(b.kv().read_snapshot()->membership(), std::nullopt);
  b.kv().apply({{"a", "1"}}, 1, 1);
  b.kv().sync();
  b.crash();
  EXPECT_EQ(b.kv().membership(), std::nullopt);
  EXPECT_EQ(b.kv().read_snapshot()->membership(), std::nullopt);
}

TYPED_TEST(StorageContract, KvMembershipIsRecordedByApplyAndKeptByAppliesWithout) {
  TypeParam b(1);
  const std::string members("n1\0n2", 5);  // opaque bytes
  b.kv().apply({{"a", "1"}}, 1, 1, members);
  EXPECT_EQ(b.kv().membership(), members);
  EXPECT_EQ(b.kv().get("a"), "1");
  b.kv().apply({{"b", "2"}}, 2, 1);
  b.kv().apply({}, 3, 2, std::nullopt);
  b.kv().apply_puts({{"c", "3"}}, 4, 2);
  EXPECT_EQ(b.kv().membership(), members);
  EXPECT_EQ(b.kv().read_snapshot()->membership(), members);
  b.kv().sync();
  b.crash();
  EXPECT_EQ(b.kv().membership(), members);
  EXPECT_EQ(b.kv().applied_index(), 4u);
  // A later one replaces it; an empty blob is a membership too.
  b.kv().apply({}, 5, 2, std::string());
  EXPECT_EQ(b.kv().membership(), std::string());
  b.kv().sync();
  b.crash();
  EXPECT_EQ(contract::dump(b.kv()),
            (KvModel{{{"a", "1"}, {"b", "2"}, {"c", "3"}}, 5, 2, std::string()}));
}

// Applies record the membership their index names (or none, keeping the one
// before), synced now and then: whatever a crash keeps, the membership is
// the one of the applied point it kept, never a newer or older one.
TYPED_TEST(StorageContract, KvMembershipAfterACrashIsThatOfTheAppliedPoint) {
  std::set<uint64_t> lost;
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    std::mt19937_64 rng(seed);
    uint64_t n = 10 + rng() % 30, synced = 0;
    for (uint64_t i = 1; i <= n; ++i) {
      b.kv().apply({{"k", std::to_string(i)}}, i, 1, contract::apply_membership(i));
      if (rng() % 8 == 0) {
        b.kv().sync();
        synced = i;
      }
    }
    b.crash();
    uint64_t a = b.kv().applied_index();
    ASSERT_TRUE(a >= synced && a <= n) << "seed " << seed << ": applied " << a;
    EXPECT_EQ(b.kv().membership(), contract::applied_membership(a)) << "seed " << seed;
    EXPECT_EQ(b.kv().read_snapshot()->membership(), contract::applied_membership(a));
    if (a > 0) {
      EXPECT_EQ(b.kv().get("k"), std::to_string(a)) << "seed " << seed;
    }
    lost.insert(n - a);
  }
  if (std::string(TypeParam::kName) == "Memory") {
    EXPECT_GT(lost.size(), 3u);  // crashes really dropped tails of several lengths
  }
}

TYPED_TEST(StorageContract, KvReaderSeesTheMembershipOfItsPoint) {
  TypeParam b(1);
  b.kv().apply({{"a", "1"}}, 1, 1, std::string("m1"));
  b.kv().apply({{"b", "2"}}, 2, 1);
  auto at2 = b.kv().read_snapshot();
  b.kv().apply({{"c", "3"}}, 3, 1, std::string("m3"));
  b.kv().sync();
  auto at3 = b.kv().read_snapshot();
  b.kv().install_snapshot({{"z", "9"}}, 10, 2, std::string("m10"));
  b.kv().apply({}, 11, 2, std::string("m11"));
  EXPECT_EQ(at2->index(), 2u);
  EXPECT_EQ(at2->membership(), "m1");
  EXPECT_EQ(at3->index(), 3u);
  EXPECT_EQ(at3->membership(), "m3");
  EXPECT_EQ(b.kv().membership(), "m11");
  EXPECT_EQ(b.kv().read_snapshot()->membership(), "m11");
}

// An install replaces the membership with the snapshot's, and one without
// a membership clears it: the old one describes another point of the log.
TYPED_TEST(StorageContract, KvInstallReplacesTheMembership) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    b.kv().apply({{"a", "1"}}, 1, 1, std::string("old"));
    b.kv().sync();
    {
      auto w = b.kv().begin_snapshot(50, 3, std::string("new"));
      w->add({{"x", "1"}});
      EXPECT_EQ(b.kv().membership(), "old");  // invisible until commit
      EXPECT_EQ(b.kv().read_snapshot()->membership(), "old");
      w->commit();
    }
    EXPECT_EQ(b.kv().membership(), "new");
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), (KvModel{{{"x", "1"}}, 50, 3, "new"}));
    EXPECT_EQ(b.kv().membership(), "new");
    b.kv().apply({}, 51, 3);
    EXPECT_EQ(b.kv().membership(), "new");
    b.kv().install_snapshot({{"y", "2"}}, 60, 3);
    EXPECT_EQ(b.kv().membership(), std::nullopt);
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), (KvModel{{{"y", "2"}}, 60, 3, std::nullopt}));
    EXPECT_EQ(b.kv().membership(), std::nullopt);
    b.kv().install_snapshot({}, 70, 4, std::string("again"));
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), (KvModel{{}, 70, 4, "again"}));
    EXPECT_EQ(b.kv().membership(), "again");
  }
}

TYPED_TEST(StorageContract, KvAbandonedOrSupersededInstallLeavesTheOldMembership) {
  for (uint64_t seed : seeds<TypeParam>()) {
    TypeParam b(seed);
    b.kv().apply({{"a", "1"}}, 1, 1, std::string("old"));
    b.kv().sync();
    const KvModel old{{{"a", "1"}}, 1, 1, "old"};
    {
      auto w = b.kv().begin_snapshot(50, 3, std::string("abandoned"));
      w->add({{"x", "1"}});
    }
    EXPECT_EQ(contract::dump(b.kv()), old);
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), old);
    EXPECT_EQ(b.kv().membership(), "old");
    // Neither a superseded install nor an abandoned one without a
    // membership touches it.
    auto first = b.kv().begin_snapshot(60, 3, std::string("superseded"));
    first->add({{"y", "2"}});
    auto second = b.kv().begin_snapshot(70, 3);
    EXPECT_THROW(first->commit(), StorageError);
    second.reset();
    first.reset();
    EXPECT_EQ(contract::dump(b.kv()), old);
    b.crash();
    EXPECT_EQ(contract::dump(b.kv()), old);
    EXPECT_EQ(b.kv().membership(), "old");
  }
}

// The in-memory store outlives a simulated crash, and so may a writer
// object: it must be dead with the process that made it.
TEST(MemoryKvStoreCrash, AWriterFromBeforeACrashCannotCommitAfterIt) {
  MemoryKvStore kv;
  std::mt19937_64 rng(1);
  kv.apply({{"a", "1"}}, 1, 1);
  kv.sync();
  auto w = kv.begin_snapshot(10, 2);
  w->add({{"b", "2"}});
  kv.crash(rng);
  EXPECT_THROW(w->add({{"c", "3"}}), StorageError);
  EXPECT_THROW(w->commit(), StorageError);
  EXPECT_EQ(contract::dump(kv), (KvModel{{{"a", "1"}}, 1, 1}));
}

// ---- RocksDB under SIGKILL -----------------------------------------------------------------

// Runs contract_crash_child on `dir`, kills it with SIGKILL once it has
// reported `kill_after` completed ops, and returns the number of ops it
// reported completed before it died.
size_t run_and_kill(const std::string& mode, const std::string& dir, uint64_t seed, size_t n,
                    size_t kill_after) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::string s_seed = std::to_string(seed), s_n = std::to_string(n), d = dir, m = mode;
  char* argv[] = {
      const_cast<char*>(CONTRACT_CHILD), m.data(), d.data(), s_seed.data(), s_n.data(), nullptr};
  pid_t pid = 0;
  if (posix_spawn(&pid, CONTRACT_CHILD, &fa, nullptr, argv, environ) != 0) {
    throw std::runtime_error("spawn");
  }
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  // The child writes the number of completed ops after each one, a line
  // each.
  std::string buf;
  size_t completed = 0;
  bool killed = false;
  char tmp[4096];
  for (;;) {
    ssize_t got = read(out[0], tmp, sizeof tmp);
    if (got <= 0) break;
    buf.append(tmp, got);
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (line == "done") continue;
      completed = std::stoul(line);
    }
    if (!killed && (completed >= kill_after || buf == "done")) {
      kill(pid, SIGKILL);
      killed = true;
    }
    if (completed >= n && !killed) {
      kill(pid, SIGKILL);
      killed = true;
    }
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFSIGNALED(status))
    throw std::runtime_error("the child was not killed: " + std::to_string(status));
  return completed;
}

TEST(StorageContractKill, RocksLogKilledMidHistoryRecoversAPrefix) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    testing::TempDir dir;
    const size_t n = 200;
    auto ops = contract::generate_log_ops(seed, n);
    size_t kill_after = 1 + std::mt19937_64(seed)() % n;
    size_t completed = run_and_kill("log", dir.path(), seed, n, kill_after);
    LogStore s(dir.path());
    raft::Restored r;
    ASSERT_NO_THROW(r = s.load()) << "seed " << seed;
    int k = contract::find_log_prefix(ops, completed, r);
    EXPECT_GE(k, 0) << "seed " << seed << ": killed after " << completed
                    << " ops, the log is no prefix of the history";
  }
}

// Also the snapshot-install crash test: installs of a few thousand pairs in
// chunks, killed at random points, sometimes right after a commit returned;
// the map on reopen is the old one or the new one, never a mix.
TEST(StorageContractKill, RocksKvKilledMidHistoryAndMidInstallRecoversAPrefix) {
  int mid_install = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    testing::TempDir dir;
    const size_t n = 120;
    auto ops = contract::generate_kv_ops(seed, n, contract::kKillTestKvOptions);
    std::mt19937_64 rng(seed);
    size_t kill_after = 1 + rng() % n;
    if (seed % 3 == 0) {
      // Right after a commit returned.
      for (size_t j = kill_after; j > 0; --j) {
        if (ops[j - 1].kind == KvOp::Kind::kCommit) {
          kill_after = j;
          break;
        }
      }
    }
    size_t completed = run_and_kill("kv", dir.path(), seed, n, kill_after);
    KvStore kv(dir.path());
    KvModel got = contract::dump(kv);
    int k = contract::find_kv_prefix(ops, completed, got);
    EXPECT_GE(k, 0) << "seed " << seed << ": killed after " << completed
                    << " ops, the map is no prefix of the history (a torn install?)";
    EXPECT_EQ(kv.membership(), got.membership) << "seed " << seed;
    contract::KvModelState s;
    for (size_t j = 0; j < completed && j < ops.size(); ++j) apply(s, ops[j]);
    if (s.staged) ++mid_install;
  }
  // The kill points must include installs in progress, or this test
  // checks less than it says.
  EXPECT_GT(mid_install, 0);
}

// Applies recording a membership (apply_membership), killed at random
// points: on reopen the membership is the one of the applied index, never
// one from a newer or older apply.
TEST(StorageContractKill, RocksKvKilledMidAppliesKeepsMembershipWithItsAppliedIndex) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    testing::TempDir dir;
    const size_t n = 3000;
    size_t kill_after = 1 + std::mt19937_64(seed)() % n;
    size_t completed = run_and_kill("members", dir.path(), seed, n, kill_after);
    KvStore kv(dir.path());
    uint64_t a = kv.applied_index();
    ASSERT_GE(a, completed - completed % 17) << "seed " << seed << ": a synced apply was lost";
    ASSERT_LE(a, std::min(completed + 1, n)) << "seed " << seed;
    EXPECT_EQ(kv.membership(), contract::applied_membership(a)) << "seed " << seed << " at " << a;
    EXPECT_EQ(kv.read_snapshot()->membership(), contract::applied_membership(a));
    if (a > 0) {
      EXPECT_EQ(kv.get("k"), std::to_string(a)) << "seed " << seed;
    }
  }
}

// Back-to-back chunked installs (each with its own key set, a few
// applies between) into one data dir, SIGKILLed again and again at random
// points: mid-stream, right after a commit, during the applies. Each reopen
// must find exactly the map of one applied point (install_state): the old
// one or the new one, never a mix, and never less than was committed.
TEST(StorageContractKill, RocksKvInstallsKilledAtRandomPointsLeaveTheOldOrTheNewMap) {
  testing::TempDir dir;
  std::mt19937_64 rng(99);
  uint64_t durable = 0;  // the last install whose commit() returned
  int old_kept = 0, new_kept = 0;
  for (int round = 0; round < 14; ++round) {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    std::string d = dir.path(), mode = "install", seed = std::to_string(round), zero = "0";
    char* argv[] = {const_cast<char*>(CONTRACT_CHILD),
                    mode.data(),
                    d.data(),
                    seed.data(),
                    zero.data(),
                    nullptr};
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, CONTRACT_CHILD, &fa, nullptr, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    const uint64_t start = durable;
    // Rounds cycle through: anywhere in the first 30 reports; inside the
    // first install (after 1-4 chunks); at the first commit, so an install
    // following an interrupted one is checked right after it lands.
    size_t lines = round % 3 == 0 ? 1 + rng() % 30 : 1 + rng() % 4;
    bool at_commit = round % 3 == 2;
    size_t seen = 0;
    std::string buf, last_line;
    bool killed = false;
    char tmp[4096];
    while (!killed) {
      ssize_t got = read(out[0], tmp, sizeof tmp);
      ASSERT_GT(got, 0) << "the child died before it was killed";
      buf.append(tmp, got);
      size_t nl;
      while (!killed && (nl = buf.find('\n')) != std::string::npos) {
        last_line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        ++seen;
        if (last_line.starts_with("commit ")) durable = std::stoull(last_line.substr(7));
        if (at_commit ? last_line.starts_with("commit ") : seen >= lines) {
          kill(pid, SIGKILL);
          killed = true;
        }
      }
    }
    // Reports written before the kill landed still count.
    for (ssize_t got; (got = read(out[0], tmp, sizeof tmp)) > 0;) buf.append(tmp, got);
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
      std::string line = buf.substr(0, nl);
      if (line.starts_with("commit ")) durable = std::stoull(line.substr(7));
    }
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));

    KvStore kv(dir.path());
    uint64_t a = kv.applied_index();
    KvModel got = contract::dump(kv);
    ASSERT_GE(a, durable) << "round " << round << ": a committed install was lost";
    // Else the install in progress (the child's first one skips by seed).
    uint64_t next = durable == start ? start + 10 * (1 + round % 3) : durable + 10;
    ASSERT_TRUE(a - a % 10 == durable || a - a % 10 == next)
        << "round " << round << ": applied " << a << " after commit " << durable;
    ASSERT_LE(a % 10, 3u);
    KvModel want = a == 0 ? KvModel{} : contract::install_state(a);
    ASSERT_EQ(got.applied, want.applied) << "round " << round;
    ASSERT_EQ(got.applied_term, want.applied_term) << "round " << round;
    ASSERT_EQ(got.membership, want.membership) << "round " << round;
    ASSERT_EQ(kv.membership(), want.membership) << "round " << round;
    ASSERT_EQ(got.data.size(), want.data.size())
        << "round " << round << ": at applied " << a << " the map is not that point's map";
    ASSERT_TRUE(got.data == want.data) << "round " << round << ": a mix of two maps at " << a;
    if (a - a % 10 == durable && last_line == "chunk") ++old_kept;
    if (last_line.starts_with("commit ") && a - a % 10 == durable) ++new_kept;
    durable = a - a % 10;  // what the next round starts from
  }
  // The kills must have landed both inside installs and after commits.
  EXPECT_GT(old_kept, 0);
  EXPECT_GT(new_kept, 0);
}

}  // namespace
}  // namespace raftkv::storage

// The Raft log store on real RocksDB: what is saved comes back after a
// reopen, conflicting suffixes are replaced, and damage on disk is refused
// (fail-stop) rather than served.
#include "storage/log_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "storage/crc32c.h"
#include "storage/encoding.h"
#include "temp_dir.h"

namespace raftkv::storage {
namespace {

using raft::Entry;
using raft::EntryType;

std::vector<Entry> entries(uint64_t first, uint64_t last, uint64_t term) {
  std::vector<Entry> out;
  for (uint64_t i = first; i <= last; ++i) {
    out.push_back(
        {term, i, EntryType::kNormal, "cmd-" + std::to_string(i) + "-t" + std::to_string(term)});
  }
  return out;
}

// Opens the log store's RocksDB directly, to damage it the way a disk might.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"log", {}}, {"meta", {}}};
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open({}, dir, cfs, &handles_, &raw);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    db_.reset(raw);
  }
  ~RawDb() {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  }
  rocksdb::ColumnFamilyHandle* log() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* meta() { return handles_[2]; }
  std::string get(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string v;
    EXPECT_TRUE(db_->Get({}, cf, key, &v).ok());
    return v;
  }
  void put(rocksdb::ColumnFamilyHandle* cf, const std::string& key, const std::string& v) {
    ASSERT_TRUE(db_->Put({}, cf, key, v).ok());
  }
  void del(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    ASSERT_TRUE(db_->Delete({}, cf, key).ok());
  }

 private:
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<rocksdb::DB> db_;
};

// load() must throw a StorageError whose message mentions `what`.
void expect_load_fails(const std::string& dir, const std::string& what) {
  LogStore s(dir);
  try {
    s.load();
    FAIL() << "load() accepted a damaged log; expected an error about " << what;
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
  }
}

TEST(LogStore, FreshStoreIsEmpty) {
  testing::TempDir dir;
  LogStore s(dir.path());
  raft::Restored r = s.load();
  EXPECT_EQ(r.hard_state, raft::HardState{});
  EXPECT_TRUE(r.entries.empty());
  EXPECT_EQ(r.base_index, 0u);
  EXPECT_EQ(s.identity(), std::nullopt);
}

TEST(LogStore, SaveReopenLoad) {
  testing::TempDir dir;
  raft::HardState hs{3, "n2", 4};
  std::vector<Entry> saved = entries(1, 5, 3);
  saved[1].type = EntryType::kNoop;
  saved[1].data.clear();
  saved[2].data = std::string("bin\0ary\xff", 8);
  {
    LogStore s(dir.path());
    s.load();
    s.save(hs, saved);
  }
  LogStore s(dir.path());
  raft::Restored r = s.load();
  EXPECT_EQ(r.hard_state, hs);
  EXPECT_EQ(r.entries, saved);
}

TEST(LogStore, SavesAppendAcrossCalls) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(std::nullopt, entries(1, 2, 1));
    s.save(std::nullopt, entries(3, 4, 1));
  }
  LogStore s(dir.path());
  EXPECT_EQ(s.load().entries, entries(1, 4, 1));
}

TEST(LogStore, ConflictingEntriesReplaceTheSuffix) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(std::nullopt, entries(1, 5, 1));
    s.save(std::nullopt, entries(3, 3, 2));  // a new leader overwrote 3.., dropping 4 and 5
  }
  LogStore s(dir.path());
  std::vector<Entry> want = entries(1, 2, 1);
  want.push_back(entries(3, 3, 2)[0]);
  EXPECT_EQ(s.load().entries, want);
}

TEST(LogStore, ConflictAfterReopenAndLoadReplacesTheSuffix) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(std::nullopt, entries(1, 5, 1));
  }
  {
    LogStore s(dir.path());
    s.load();
    s.save(std::nullopt, entries(2, 3, 2));
  }
  LogStore s(dir.path());
  std::vector<Entry> want = entries(1, 1, 1);
  for (const Entry& e : entries(2, 3, 2)) want.push_back(e);
  EXPECT_EQ(s.load().entries, want);
}

// save() promises "entries from entries[0].index on replace whatever was
// there" even right after a reopen, before load() has run.
TEST(LogStore, ConflictAfterReopenWithoutLoadReplacesTheSuffix) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.save(std::nullopt, entries(1, 5, 1));
  }
  {
    LogStore s(dir.path());
    s.save(std::nullopt, entries(2, 3, 2));
  }
  LogStore s(dir.path());
  EXPECT_EQ(s.load().entries.size(), 3u);
}

TEST(LogStore, HardStatePersistsWithoutEntries) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(raft::HardState{1, "", 0}, entries(1, 2, 1));
    s.save(raft::HardState{2, "n3", 2, 9}, {});
  }
  LogStore s(dir.path());
  EXPECT_EQ(s.load().hard_state, (raft::HardState{2, "n3", 2, 9}));
}

// Stores written before HardState::leader_commit existed still open.
TEST(LogStore, ReadsAHardStateWithoutLeaderCommit) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(raft::HardState{1, "", 0}, entries(1, 2, 1));
  }
  {
    std::string v;
    put_u64(v, 3);  // term
    put_u64(v, 2);  // commit
    put_str(v, "n2");
    put_u32(v, crc32c(v));
    RawDb raw(dir.path());
    raw.put(raw.meta(), "hard_state", v);
  }
  LogStore s(dir.path());
  EXPECT_EQ(s.load().hard_state, (raft::HardState{3, "n2", 2, 0}));
}

TEST(LogStore, SyncsWhenEntriesTermOrVoteChangeButNotForCommitAlone) {
  testing::TempDir dir;
  LogStore s(dir.path());
  s.load();
  s.save(raft::HardState{1, "n1", 0}, entries(1, 1, 1));
  EXPECT_EQ(s.syncs(), 1u);
  EXPECT_EQ(s.synced_entries(), 1u);
  s.save(raft::HardState{1, "n1", 1}, {});  // commit only
  EXPECT_EQ(s.syncs(), 1u);
  s.save(raft::HardState{2, "n1", 1}, {});  // new term
  EXPECT_EQ(s.syncs(), 2u);
  s.save(raft::HardState{2, "n2", 1}, {});  // new vote
  EXPECT_EQ(s.syncs(), 3u);
  s.save(std::nullopt, {});  // nothing to do
  EXPECT_EQ(s.syncs(), 3u);
}

TEST(LogStore, CommitBeyondTheLogIsRefused) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(raft::HardState{1, "", 9}, entries(1, 2, 1));
  }
  expect_load_fails(dir.path(), "commit index");
}

TEST(LogStore, IdentityRoundTrips) {
  testing::TempDir dir;
  ClusterIdentity id{"n2", {"n1", "n2", "n3"}};
  {
    LogStore s(dir.path());
    s.set_identity(id);
    EXPECT_EQ(s.identity(), id);
  }
  LogStore s(dir.path());
  EXPECT_EQ(s.identity(), id);
  ClusterIdentity alone{"n1", {}};
  s.set_identity(alone);
  EXPECT_EQ(s.identity(), alone);
}

TEST(LogStore, CorruptedEntryByteFailsLoadWithChecksumError) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(raft::HardState{1, "", 3}, entries(1, 3, 1));
  }
  {
    RawDb raw(dir.path());
    std::string v = raw.get(raw.log(), u64_key(2));
    v[v.size() - 1] ^= 0x01;  // one bit of the command data
    raw.put(raw.log(), u64_key(2), v);
  }
  expect_load_fails(dir.path(), "checksum");
}

TEST(LogStore, EntryMovedToAnotherIndexFailsChecksum) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(std::nullopt, entries(1, 3, 1));
  }
  {
    RawDb raw(dir.path());
    raw.put(raw.log(), u64_key(3), raw.get(raw.log(), u64_key(2)));
  }
  expect_load_fails(dir.path(), "checksum");
}

TEST(LogStore, CorruptedHardStateFailsLoad) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(raft::HardState{5, "n1", 0}, {});
  }
  {
    RawDb raw(dir.path());
    std::string v = raw.get(raw.meta(), "hard_state");
    v[0] ^= 0x40;
    raw.put(raw.meta(), "hard_state", v);
  }
  expect_load_fails(dir.path(), "checksum");
}

TEST(LogStore, MissingEntryFailsLoadAsNotContiguous) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(std::nullopt, entries(1, 4, 1));
  }
  {
    RawDb raw(dir.path());
    raw.del(raw.log(), u64_key(2));
  }
  expect_load_fails(dir.path(), "not contiguous");
}

TEST(LogStore, TermGoingBackwardsFailsLoad) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(std::nullopt, entries(1, 3, 2));
  }
  {
    RawDb raw(dir.path());
    // Validly checksummed, but an older term after a newer one.
    raw.put(raw.log(), u64_key(3), encode_entry({1, 3, EntryType::kNormal, "x"}));
  }
  expect_load_fails(dir.path(), "term goes backwards");
}

TEST(LogStore, TruncatedEntryFailsLoad) {
  testing::TempDir dir;
  {
    LogStore s(dir.path());
    s.load();
    s.save(std::nullopt, entries(1, 2, 1));
  }
  {
    RawDb raw(dir.path());
    raw.put(raw.log(), u64_key(2), "short");
  }
  expect_load_fails(dir.path(), "truncated");
}

TEST(EntryCodec, EveryFlippedByteIsDetected) {
  Entry e{4, 9, EntryType::kNormal, "w01:31:5"};
  std::string v = encode_entry(e);
  EXPECT_EQ(decode_entry(9, v), e);
  for (size_t i = 0; i < v.size(); ++i) {
    std::string bad = v;
    bad[i] ^= 0x10;
    EXPECT_THROW(decode_entry(9, bad), StorageError) << "byte " << i;
  }
  EXPECT_THROW(decode_entry(10, v), StorageError);
}

TEST(LogStore, SecondOpenOfTheSameDirFails) {
  testing::TempDir dir;
  LogStore first(dir.path());
  EXPECT_THROW(LogStore second(dir.path()), StorageError);
}

}  // namespace
}  // namespace raftkv::storage

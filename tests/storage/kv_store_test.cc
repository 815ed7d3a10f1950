// The applied KV map on real RocksDB: data and the applied index travel in
// one batch, so after a reopen (or a crash) the map is exactly the log
// applied up to that index.
#include "storage/kv_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "storage/log_store.h"
#include "temp_dir.h"

extern char** environ;

namespace raftkv::storage {
namespace {

TEST(KvStore, FreshStoreIsEmpty) {
  testing::TempDir dir;
  KvStore s(dir.path());
  EXPECT_EQ(s.applied_index(), 0u);
  EXPECT_EQ(s.get("1"), std::nullopt);
}

TEST(KvStore, ApplyReopenBothDataAndAppliedIndexPresent) {
  testing::TempDir dir;
  {
    KvStore s(dir.path());
    s.apply({{"1", "10"}, {R"("a")", R"({"x":null})"}}, 5, 1);
    s.apply({{"1", "11"}}, 6, 2);
    s.apply({}, 7, 3);  // no-op entries still move the index
    EXPECT_EQ(s.applied_index(), 7u);
    EXPECT_EQ(s.get("1"), "11");
  }
  KvStore s(dir.path());
  EXPECT_EQ(s.applied_index(), 7u);
  EXPECT_EQ(s.applied_term(), 3u);
  EXPECT_EQ(s.get("1"), "11");
  EXPECT_EQ(s.get(R"("a")"), R"({"x":null})");
}

TEST(KvStore, SyncedDataSurvivesReopen) {
  testing::TempDir dir;
  {
    KvStore s(dir.path());
    s.apply({{"k", "v"}}, 1, 1);
    s.sync();
  }
  KvStore s(dir.path());
  EXPECT_EQ(s.get("k"), "v");
  EXPECT_EQ(s.applied_index(), 1u);
}

TEST(KvStore, UserKeysCannotCollideWithTheAppliedIndex) {
  testing::TempDir dir;
  KvStore s(dir.path());
  s.apply({{"m/applied", "x"}, {"m/members", "y"}, {"", "empty key"}}, 3, 1);
  EXPECT_EQ(s.applied_index(), 3u);
  EXPECT_EQ(s.membership(), std::nullopt);
  EXPECT_EQ(s.get("m/applied"), "x");
  EXPECT_EQ(s.get("m/members"), "y");
  EXPECT_EQ(s.get(""), "empty key");
}

// A process killed at an arbitrary moment leaves, after reopen, an applied
// index that matches its data exactly: never ahead of it, never behind.
TEST(KvStore, CrashKeepsAppliedIndexWithItsData) {
  testing::TempDir dir;
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&fa, out[0]);
  std::string path = dir.path();
  char* argv[] = {const_cast<char*>(CRASH_WRITER), path.data(), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, CRASH_WRITER, &fa, nullptr, argv, environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]);
  char buf[16] = {};
  ASSERT_GT(read(out[0], buf, sizeof buf), 0) << "writer died before it was ready";
  close(out[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));

  KvStore s(dir.path());
  uint64_t a = s.applied_index();
  ASSERT_GE(a, 200u);
  EXPECT_EQ(s.get("last"), std::to_string(a));
  EXPECT_EQ(s.get("x" + std::to_string(a)), std::to_string(a));
  EXPECT_EQ(s.get("x" + std::to_string(a + 1)), std::nullopt);
}

TEST(KvStore, SecondOpenOfTheSameDirFails) {
  testing::TempDir dir;
  KvStore first(dir.path());
  EXPECT_THROW(KvStore second(dir.path()), StorageError);
}

// Opens the store's RocksDB directly (all its column families; the live
// slot is the default one until a snapshot is installed) to damage it the
// way a disk might.
void with_raw_db(const std::string& dir, const std::function<void(rocksdb::DB&)>& f) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies({}, dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open({}, dir, cfs, &handles, &raw).ok());
  f(*raw);
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
}

TEST(KvStore, CorruptedValueIsRefusedNotServed) {
  testing::TempDir dir;
  {
    KvStore s(dir.path());
    s.apply({{"k", "12345"}}, 1, 1);
  }
  with_raw_db(dir.path(), [](rocksdb::DB& db) {
    std::string v;
    ASSERT_TRUE(db.Get({}, "d/k", &v).ok());
    v.back() ^= 0x01;
    ASSERT_TRUE(db.Put({}, "d/k", v).ok());
  });
  KvStore s(dir.path());
  try {
    s.get("k");
    FAIL() << "a corrupted value was served";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("checksum"), std::string::npos) << e.what();
  }
}

TEST(KvStore, MalformedAppliedIndexIsRefused) {
  testing::TempDir dir;
  { KvStore s(dir.path()); }
  with_raw_db(dir.path(),
              [](rocksdb::DB& db) { ASSERT_TRUE(db.Put({}, "m/applied", "short").ok()); });
  EXPECT_THROW(KvStore s(dir.path()), StorageError);
}

// The membership record, like the applied one, is checked when the store
// opens: a flipped byte or a truncated record fails the open.
TEST(KvStore, CorruptedMembershipRecordFailsTheOpen) {
  for (bool truncate : {false, true}) {
    testing::TempDir dir;
    {
      KvStore s(dir.path());
      s.apply({{"k", "v"}}, 1, 1, std::string("n1,n2,n3"));
      s.sync();
    }
    with_raw_db(dir.path(), [&](rocksdb::DB& db) {
      std::string v;
      ASSERT_TRUE(db.Get({}, "m/members", &v).ok());
      ASSERT_EQ(v.substr(4), "n1,n2,n3");
      if (truncate) {
        v.resize(3);
      } else {
        v.back() ^= 0x01;
      }
      ASSERT_TRUE(db.Put({}, "m/members", v).ok());
    });
    try {
      KvStore s(dir.path());
      FAIL() << "a corrupted membership record was accepted (truncate " << truncate << ")";
    } catch (const StorageError& e) {
      EXPECT_NE(std::string(e.what()).find("membership checksum"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace raftkv::storage

// RocksDB database #2: the applied key-value map (KvStorage). The applied
// point is written in the same WriteBatch as the data it covers, so after a
// crash the map is exactly the result of applying the log up to it.
//
// The data lives in one of two slots (column families "default" and
// "slot1"); the applied record names the live one. A snapshot install
// streams into the other slot, unsynced, and commit() syncs the WAL and then
// flips the applied record in one synced write: a crash before the flip
// leaves the old map, after it the new one, and memory stays bounded by
// RocksDB's memtables whatever the snapshot's size. The membership is a
// metadata record next to the applied one, written in the same batches.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/kv_storage.h"

namespace raftkv::storage {

class KvStore final : public KvStorage {
 public:
  explicit KvStore(const std::string& dir);  // throws StorageError
  ~KvStore() override;
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  std::optional<std::string> get(const std::string& key) override;
  uint64_t applied_index() const override { return applied_; }
  uint64_t applied_term() const override { return applied_term_; }
  std::optional<std::string> membership() const override { return membership_; }

  // Not synced: the log is durable, and a lost tail is replayed from it.
  using KvStorage::apply;
  void apply(const KvWrites& writes, uint64_t applied, uint64_t applied_term,
             const std::optional<std::string>& membership) override;
  void sync() override;

  std::unique_ptr<SnapshotReader> read_snapshot() override;
  using KvStorage::begin_snapshot;
  std::unique_ptr<SnapshotWriter> begin_snapshot(uint64_t index, uint64_t term,
                                                 std::optional<std::string> membership) override;

 private:
  class Reader;
  class Writer;
  rocksdb::ColumnFamilyHandle* slot_cf(int slot) const { return handles_[slot]; }
  void write_applied(rocksdb::WriteBatch& batch, uint64_t index, uint64_t term, int slot);

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // [0] default, [1] slot1
  int live_ = 0;
  uint64_t applied_ = 0;
  uint64_t applied_term_ = 0;
  std::optional<std::string> membership_;
  uint64_t writer_generation_ = 0;  // a newer writer abandons older ones
};

}  // namespace raftkv::storage

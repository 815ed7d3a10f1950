// RocksDB database #1: the Raft log (column family "log": index -> entry with
// a CRC32C checksum) and metadata (column family "meta": hard state, snapshot
// point, cluster identity).
#pragma once

#include <rocksdb/db.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/log_storage.h"

namespace raftkv::storage {

// fsyncs every ancestor directory of `dir`, so a freshly created data dir
// (and the database in it) survives a power cut: a new directory entry is
// durable only once its parent directory is fsynced. Throws StorageError.
void sync_parent_dirs(const std::string& dir);

// The RocksDB implementation of LogStorage. Entries and term/vote changes
// are written with sync=true (fsync of the WAL); commit-only updates are not
// synced; compact() is not synced.
class LogStore final : public LogStorage {
 public:
  // Opens (creating if needed) the store in `dir`. Throws StorageError.
  explicit LogStore(const std::string& dir);
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Everything Raft needs to restart; verifies checksums and that the log is
  // contiguous with non-decreasing terms. Throws StorageError.
  raft::Restored load() override;

  // Persists a Ready's hard state and entries in one atomic batch. Entries
  // from entries[0].index on replace whatever was there. Synced when Raft
  // requires durability (entries, term or vote changed).
  void save(const std::optional<raft::HardState>& hs,
            const std::vector<raft::Entry>& entries) override;

  // Deletes the log up to and including `index` (already applied and durable
  // in the KV store); `term` is the term of that entry, kept as the base.
  void compact(uint64_t index, uint64_t term) override;
  // Replaces the whole log with an installed snapshot's point.
  void reset_to_snapshot(uint64_t index, uint64_t term, const raft::HardState& hs) override;
  uint64_t first_index() const override { return base_index_ + 1; }
  uint64_t last_index() const override { return last_index_; }
  // Bytes of live SST + memtable data in the log column family (for benchmarks).
  uint64_t log_bytes();

  // The node id and membership this data dir belongs to; nullopt when new.
  std::optional<ClusterIdentity> identity() override;
  void set_identity(const ClusterIdentity& id) override;

  const raft::HardState& hard_state() const override { return last_hs_; }
  uint64_t syncs() const override { return syncs_; }
  uint64_t synced_entries() const override { return synced_entries_; }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  raft::HardState last_hs_;
  uint64_t base_index_ = 0;
  uint64_t last_index_ = 0;
  uint64_t syncs_ = 0;
  uint64_t synced_entries_ = 0;
};

// Entry (de)serialisation, exposed for tests.
std::string encode_entry(const raft::Entry& e);
// Throws StorageError on a checksum mismatch or malformed value.
raft::Entry decode_entry(uint64_t index, std::string_view value);

}  // namespace raftkv::storage

// RocksDB database #2: the applied key-value map. The applied index is
// written in the same WriteBatch as the data it covers, so after a crash the
// map is exactly the result of applying the log up to that index.
#pragma once

#include <rocksdb/db.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace raftkv::storage {

class KvStore {
 public:
  explicit KvStore(const std::string& dir);  // throws StorageError
  ~KvStore();
  KvStore(const KvStore&) = delete;
  KvStore& operator=(const KvStore&) = delete;

  // Throws StorageError when the stored value fails its checksum.
  std::optional<std::string> get(const std::string& key);
  uint64_t applied_index() const { return applied_; }
  uint64_t applied_term() const { return applied_term_; }

  // Atomically stores the puts and the new applied index (and its term). Not
  // synced: the log is durable, and a lost tail is replayed from it at
  // restart.
  void apply(const std::vector<std::pair<std::string, std::string>>& puts, uint64_t applied,
             uint64_t applied_term = 0);

  // Makes everything applied so far durable (before the log prefix goes).
  void sync();

  // Snapshots: the KV store is the snapshot. A reader walks a consistent
  // RocksDB snapshot of the data in bounded chunks of (key, value) pairs.
  class SnapshotReader {
   public:
    ~SnapshotReader();
    uint64_t index() const { return index_; }
    uint64_t term() const { return term_; }
    // Up to ~max_bytes of pairs; empty once done.
    std::vector<std::pair<std::string, std::string>> next_chunk(size_t max_bytes);
    bool done() const { return done_; }

   private:
    friend class KvStore;
    rocksdb::DB* db_ = nullptr;
    const rocksdb::Snapshot* snap_ = nullptr;
    std::unique_ptr<rocksdb::Iterator> it_;
    uint64_t index_ = 0, term_ = 0;
    bool done_ = false;
  };
  std::unique_ptr<SnapshotReader> read_snapshot();

  // Atomically replaces all data with `pairs` at applied index/term, synced.
  void install_snapshot(const std::vector<std::pair<std::string, std::string>>& pairs,
                        uint64_t index, uint64_t term);

 private:
  std::unique_ptr<rocksdb::DB> db_;
  uint64_t applied_ = 0;
  uint64_t applied_term_ = 0;
};

}  // namespace raftkv::storage

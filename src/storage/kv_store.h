// RocksDB database #2: the applied key-value map. The applied index is
// written in the same WriteBatch as the data it covers, so after a crash the
// map is exactly the result of applying the log up to that index.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rocksdb/db.h>

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

 private:
  std::unique_ptr<rocksdb::DB> db_;
  uint64_t applied_ = 0;
  uint64_t applied_term_ = 0;
};

}  // namespace raftkv::storage

// The applied key-value map, as the server core sees it. Keys and values are
// byte strings; the map also records the index and term of the last log
// entry it reflects (the applied point).
//
// Crash contract (what every implementation must guarantee):
// - apply() is atomic: the writes and the new applied point land together or
//   not at all. It need not be durable when it returns: a crash may lose any
//   suffix of applies, which the log replays at restart (the log keeps every
//   entry after the last sync()).
// - sync() returns once everything applied before it is durable.
// - A snapshot install (SnapshotWriter) is all-or-nothing: until commit()
//   returns, a crash leaves the old map and applied point; once it returns,
//   the new ones are durable. Memory stays bounded whatever the map's size.
// - get() and snapshot reads verify checksums. Any method throws
//   StorageError when the contract cannot be kept; the caller fail-stops.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "storage/log_storage.h"

namespace raftkv::storage {

using KvPairs = std::vector<std::pair<std::string, std::string>>;
// A batch of changes to the map: a value puts, nullopt deletes the key.
using KvWrites = std::vector<std::pair<std::string, std::optional<std::string>>>;

class KvStorage {
 public:
  virtual ~KvStorage() = default;

  virtual std::optional<std::string> get(const std::string& key) = 0;
  virtual uint64_t applied_index() const = 0;
  virtual uint64_t applied_term() const = 0;

  virtual void apply(const KvWrites& writes, uint64_t applied, uint64_t applied_term) = 0;
  // Puts only (tests and tools).
  void apply_puts(const KvPairs& puts, uint64_t applied, uint64_t applied_term) {
    apply(KvWrites(puts.begin(), puts.end()), applied, applied_term);
  }
  virtual void sync() = 0;

  // A consistent view of the map at one applied point, read in bounded
  // chunks of pairs in key order.
  class SnapshotReader {
   public:
    virtual ~SnapshotReader() = default;
    virtual uint64_t index() const = 0;
    virtual uint64_t term() const = 0;
    // The next pairs in key order: at most max_bytes of keys and values
    // together, or one pair when that pair alone is bigger (so a chunk is
    // never empty while pairs remain, whatever max_bytes is).
    virtual KvPairs next_chunk(size_t max_bytes) = 0;
    virtual bool done() const = 0;
  };
  virtual std::unique_ptr<SnapshotReader> read_snapshot() = 0;

  // Streams a snapshot in: add() chunks in any number, then commit() makes
  // the whole map equal to what was added, at applied point index/term.
  // Destroying a writer without commit() abandons the install.
  class SnapshotWriter {
   public:
    virtual ~SnapshotWriter() = default;
    virtual void add(const KvPairs& pairs) = 0;
    virtual void commit() = 0;
  };
  // At most one writer at a time; starting another abandons the first.
  virtual std::unique_ptr<SnapshotWriter> begin_snapshot(uint64_t index, uint64_t term) = 0;

  // Convenience for tests and small snapshots: one writer, one chunk.
  void install_snapshot(const KvPairs& pairs, uint64_t index, uint64_t term) {
    auto w = begin_snapshot(index, term);
    w->add(pairs);
    w->commit();
  }
};

}  // namespace raftkv::storage

// The applied key-value map, as the server core sees it. Keys and values are
// byte strings; the map also records the index and term of the last log
// entry it reflects (the applied point) and the cluster membership as of
// that point (an opaque blob encoded by Raft): once the log is compacted,
// the store, which is the snapshot, is the only place the configuration at
// the compaction point survives.
//
// Crash contract (what every implementation must guarantee):
// - apply() is atomic: the writes, the new applied point and the membership
//   it records (if any) land together or not at all. It need not be durable
//   when it returns: a crash may lose any suffix of applies, which the log
//   replays at restart (the log keeps every entry after the last sync()).
//   So after a crash membership() is always the one of applied_index().
// - sync() returns once everything applied before it is durable.
// - A snapshot install (SnapshotWriter) is all-or-nothing: until commit()
//   returns, a crash leaves the old map, applied point and membership; once
//   it returns, the new ones are durable. The install replaces the
//   membership with the snapshot's, and clears it when the snapshot has
//   none: a membership kept from the old map would belong to another point
//   of the log. Memory stays bounded whatever the map's size.
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

  // The membership as of applied_index(); nullopt when there is none (a
  // fresh store, one written before memberships were recorded, or one whose
  // last install carried none).
  virtual std::optional<std::string> membership() const = 0;

  // A set `membership` is recorded in the same atomic batch as the writes
  // and the applied point; nullopt keeps the current one.
  virtual void apply(const KvWrites& writes, uint64_t applied, uint64_t applied_term,
                     const std::optional<std::string>& membership) = 0;
  void apply(const KvWrites& writes, uint64_t applied, uint64_t applied_term) {
    apply(writes, applied, applied_term, std::nullopt);
  }
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
    // The membership at index(), read from the same view as the pairs.
    virtual std::optional<std::string> membership() const = 0;
    // The next pairs in key order: at most max_bytes of keys and values
    // together, or one pair when that pair alone is bigger (so a chunk is
    // never empty while pairs remain, whatever max_bytes is).
    virtual KvPairs next_chunk(size_t max_bytes) = 0;
    virtual bool done() const = 0;
  };
  virtual std::unique_ptr<SnapshotReader> read_snapshot() = 0;

  // Streams a snapshot in: add() chunks in any number, then commit() makes
  // the whole map equal to what was added, at applied point index/term,
  // with `membership` as the membership (nullopt clears it).
  // Destroying a writer without commit() abandons the install.
  class SnapshotWriter {
   public:
    virtual ~SnapshotWriter() = default;
    virtual void add(const KvPairs& pairs) = 0;
    virtual void commit() = 0;
  };
  // At most one writer at a time; starting another abandons the first.
  virtual std::unique_ptr<SnapshotWriter> begin_snapshot(uint64_t index, uint64_t term,
                                                         std::optional<std::string> membership) = 0;
  std::unique_ptr<SnapshotWriter> begin_snapshot(uint64_t index, uint64_t term) {
    return begin_snapshot(index, term, std::nullopt);
  }

  // Convenience for tests and small snapshots: one writer, one chunk.
  void install_snapshot(const KvPairs& pairs, uint64_t index, uint64_t term,
                        std::optional<std::string> membership) {
    auto w = begin_snapshot(index, term, std::move(membership));
    w->add(pairs);
    w->commit();
  }
  void install_snapshot(const KvPairs& pairs, uint64_t index, uint64_t term) {
    install_snapshot(pairs, index, term, std::nullopt);
  }
};

}  // namespace raftkv::storage

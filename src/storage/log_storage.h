// The Raft log and its metadata, as the server core sees them.
//
// Crash contract (what every implementation must guarantee):
// - save() with entries, or with a hard state whose term or vote changed,
//   returns only once all of it is durable. A save() that only moves the
//   commit index may be lost by a crash, in whole or as a suffix of such
//   saves: the commit index is re-learned from the leader.
// - Each save(), compact() and reset_to_snapshot() is atomic: after a crash
//   it happened entirely or not at all.
// - compact() need not be durable when it returns (a crash may bring the
//   prefix back; that is harmless). reset_to_snapshot() is durable.
// - set_identity() is durable when it returns.
// - Any method throws StorageError when the store cannot keep this contract
//   (I/O error, checksum mismatch, malformed data). The caller must stop
//   (fail-stop) and never retry: after a failed fsync the state on disk is
//   unknown.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "raft/raft.h"
#include "raft/types.h"

namespace raftkv::storage {

// A fail-stop condition: the node must refuse to serve rather than risk
// answering with wrong data. what() is a one-line reason.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Which node of which cluster a data dir belongs to.
struct ClusterIdentity {
  std::string node_id;
  std::vector<std::string> node_ids;
  bool operator==(const ClusterIdentity&) const = default;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // Everything Raft needs to restart; verifies checksums and that the log is
  // contiguous with non-decreasing terms and commit <= last index.
  virtual raft::Restored load() = 0;

  // Persists a Ready's hard state and entries atomically. Entries from
  // entries[0].index on replace whatever was there.
  virtual void save(const std::optional<raft::HardState>& hs,
                    const std::vector<raft::Entry>& entries) = 0;

  // Deletes the log up to and including `index`, whose entry has `term`;
  // the KV store must already hold that prefix durably.
  virtual void compact(uint64_t index, uint64_t term) = 0;
  // Replaces the whole log with an installed snapshot's point and `hs`.
  virtual void reset_to_snapshot(uint64_t index, uint64_t term, const raft::HardState& hs) = 0;

  virtual std::optional<ClusterIdentity> identity() = 0;
  virtual void set_identity(const ClusterIdentity& id) = 0;

  // The hard state last saved (durable or not).
  virtual const raft::HardState& hard_state() const = 0;
  virtual uint64_t first_index() const = 0;
  virtual uint64_t last_index() const = 0;
  // Counters for stats lines and benchmarks.
  virtual uint64_t syncs() const = 0;
  virtual uint64_t synced_entries() const = 0;
};

}  // namespace raftkv::storage

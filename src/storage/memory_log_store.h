// An in-memory LogStorage for the deterministic simulation. It keeps the
// same crash contract as the RocksDB store (log_storage.h) and models a
// crash faithfully: crash() keeps what was synced plus a random prefix of
// the unsynced operations (each one whole or not at all, like a WAL record
// that was torn is dropped whole at recovery).
#pragma once

#include <map>
#include <random>

#include "storage/log_storage.h"

namespace raftkv::storage {

class MemoryLogStore final : public LogStorage {
 public:
  raft::Restored load() override;
  void save(const std::optional<raft::HardState>& hs,
            const std::vector<raft::Entry>& entries) override;
  void compact(uint64_t index, uint64_t term) override;
  void reset_to_snapshot(uint64_t index, uint64_t term, const raft::HardState& hs) override;
  std::optional<ClusterIdentity> identity() override { return durable_.identity; }
  void set_identity(const ClusterIdentity& id) override;

  const raft::HardState& hard_state() const override { return current_.hs; }
  uint64_t first_index() const override { return current_.base_index + 1; }
  uint64_t last_index() const override { return current_.last_index(); }
  uint64_t syncs() const override { return syncs_; }
  uint64_t synced_entries() const override { return synced_entries_; }

  // Power loss: everything unsynced beyond a random prefix is gone.
  void crash(std::mt19937_64& rng);

  // What a crash right now would certainly keep (for the simulation's
  // persistence checks).
  const raft::HardState& durable_hard_state() const { return durable_.hs; }
  uint64_t durable_last_index() const { return durable_.last_index(); }
  std::optional<uint64_t> durable_term_at(uint64_t index) const;
  // The term of the entry at `index` as written (durable or not).
  std::optional<uint64_t> term_at(uint64_t index) const;

 private:
  struct State {
    raft::HardState hs;
    uint64_t base_index = 0, base_term = 0;
    std::map<uint64_t, raft::Entry> log;
    std::optional<ClusterIdentity> identity;
    uint64_t last_index() const { return log.empty() ? base_index : log.rbegin()->first; }
  };
  struct Op {
    enum class Kind { kSave, kCompact } kind;
    std::optional<raft::HardState> hs;
    std::vector<raft::Entry> entries;
    uint64_t index = 0, term = 0;
  };
  static void apply(State& s, const Op& op);
  void record(Op op, bool sync);

  State current_;
  State durable_;
  std::vector<Op> unsynced_;
  uint64_t syncs_ = 0;
  uint64_t synced_entries_ = 0;
};

}  // namespace raftkv::storage

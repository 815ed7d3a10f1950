// The log store as the server core sees it, with each fsync timed for the
// metrics. Forwards every call; a save() that synced is one observation.
#pragma once

#include <chrono>

#include "serve/metrics.h"
#include "storage/log_storage.h"

namespace raftkv::serve {

class TimedLog final : public storage::LogStorage {
 public:
  TimedLog(storage::LogStorage& inner, Histogram& fsync_seconds)
      : inner_(inner), fsync_seconds_(fsync_seconds) {}

  raft::Restored load() override { return inner_.load(); }
  void save(const std::optional<raft::HardState>& hs,
            const std::vector<raft::Entry>& entries) override {
    uint64_t before = inner_.syncs();
    auto start = std::chrono::steady_clock::now();
    inner_.save(hs, entries);
    if (inner_.syncs() != before) {
      std::chrono::duration<double> d = std::chrono::steady_clock::now() - start;
      fsync_seconds_.observe(d.count());
    }
  }
  void compact(uint64_t index, uint64_t term) override { inner_.compact(index, term); }
  void reset_to_snapshot(uint64_t index, uint64_t term, const raft::HardState& hs) override {
    inner_.reset_to_snapshot(index, term, hs);
  }
  std::optional<storage::ClusterIdentity> identity() override { return inner_.identity(); }
  void set_identity(const storage::ClusterIdentity& id) override { inner_.set_identity(id); }
  const raft::HardState& hard_state() const override { return inner_.hard_state(); }
  uint64_t first_index() const override { return inner_.first_index(); }
  uint64_t last_index() const override { return inner_.last_index(); }
  uint64_t syncs() const override { return inner_.syncs(); }
  uint64_t synced_entries() const override { return inner_.synced_entries(); }

 private:
  storage::LogStorage& inner_;
  Histogram& fsync_seconds_;
};

}  // namespace raftkv::serve

// An in-memory KvStorage for the deterministic simulation, with the crash
// contract of kv_storage.h: crash() keeps what was synced plus a random
// prefix of the unsynced applies (each whole, with the membership it
// recorded, or not at all); a snapshot install is invisible until commit()
// and durable once it returns.
#pragma once

#include <map>
#include <random>

#include "storage/kv_storage.h"

namespace raftkv::storage {

class MemoryKvStore final : public KvStorage {
 public:
  std::optional<std::string> get(const std::string& key) override;
  uint64_t applied_index() const override { return current_.applied; }
  uint64_t applied_term() const override { return current_.applied_term; }
  std::optional<std::string> membership() const override { return current_.membership; }
  using KvStorage::apply;
  void apply(const KvWrites& writes, uint64_t applied, uint64_t applied_term,
             const std::optional<std::string>& membership) override;
  void sync() override;
  std::unique_ptr<SnapshotReader> read_snapshot() override;
  using KvStorage::begin_snapshot;
  std::unique_ptr<SnapshotWriter> begin_snapshot(uint64_t index, uint64_t term,
                                                 std::optional<std::string> membership) override;

  void crash(std::mt19937_64& rng);
  uint64_t durable_applied_index() const { return durable_.applied; }
  const std::map<std::string, std::string>& contents() const { return current_.data; }

 private:
  struct State {
    std::map<std::string, std::string> data;
    uint64_t applied = 0, applied_term = 0;
    std::optional<std::string> membership;
  };
  struct Apply {
    KvWrites writes;
    uint64_t applied, applied_term;
    std::optional<std::string> membership;  // nullopt: unchanged
  };
  static void apply_to(State& s, const Apply& a);
  class Reader;
  class Writer;

  State current_;
  State durable_;
  std::vector<Apply> unsynced_;
  uint64_t writer_generation_ = 0;
};

}  // namespace raftkv::storage

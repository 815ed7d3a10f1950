#include "storage/memory_log_store.h"

#include <fmt/format.h>

namespace raftkv::storage {

void MemoryLogStore::apply(State& s, const Op& op) {
  if (op.kind == Op::Kind::kCompact) {
    if (op.index <= s.base_index) return;
    s.log.erase(s.log.begin(), s.log.upper_bound(op.index));
    s.base_index = op.index;
    s.base_term = op.term;
    return;
  }
  if (!op.entries.empty()) {
    s.log.erase(s.log.lower_bound(op.entries.front().index), s.log.end());
    for (const raft::Entry& e : op.entries) s.log[e.index] = e;
  }
  if (op.hs) s.hs = *op.hs;
}

void MemoryLogStore::record(Op op, bool sync) {
  apply(current_, op);
  unsynced_.push_back(std::move(op));
  if (!sync) return;
  // A synced write makes everything before it durable too, as an fsync of
  // a write-ahead log does.
  for (const Op& o : unsynced_) apply(durable_, o);
  unsynced_.clear();
}

raft::Restored MemoryLogStore::load() {
  raft::Restored r;
  r.hard_state = current_.hs;
  r.base_index = current_.base_index;
  r.base_term = current_.base_term;
  uint64_t expect = r.base_index + 1;
  uint64_t prev_term = r.base_term;
  for (const auto& [index, e] : current_.log) {
    if (index != expect) {
      throw StorageError(fmt::format("memory log: not contiguous at {}", index));
    }
    if (e.term < prev_term) {
      throw StorageError(fmt::format("memory log: term goes backwards at index {}", index));
    }
    prev_term = e.term;
    r.entries.push_back(e);
    ++expect;
  }
  if (r.hard_state.commit > current_.last_index()) {
    throw StorageError(fmt::format("memory log: commit index {} beyond last log index {}",
                                   r.hard_state.commit, current_.last_index()));
  }
  return r;
}

void MemoryLogStore::save(const std::optional<raft::HardState>& hs,
                          const std::vector<raft::Entry>& entries) {
  if (!hs && entries.empty()) return;
  // The same rule as the RocksDB store: entries, term and vote are synced,
  // a commit-only update is not.
  bool sync =
      !entries.empty() || (hs && (hs->term != current_.hs.term || hs->vote != current_.hs.vote));
  record(Op{Op::Kind::kSave, hs, entries, 0, 0}, sync);
  if (sync) {
    ++syncs_;
    synced_entries_ += entries.size();
  }
}

void MemoryLogStore::compact(uint64_t index, uint64_t term) {
  record(Op{Op::Kind::kCompact, std::nullopt, {}, index, term}, false);
}

void MemoryLogStore::reset_to_snapshot(uint64_t index, uint64_t term, const raft::HardState& hs) {
  // One synced batch: drop the whole log, set the base and the hard state.
  // Being synced, it makes every earlier write durable too.
  current_.log.clear();
  current_.base_index = index;
  current_.base_term = term;
  current_.hs = hs;
  durable_ = current_;
  unsynced_.clear();
  ++syncs_;
}

void MemoryLogStore::set_identity(const ClusterIdentity& id) {
  current_.identity = id;
  durable_.identity = id;
}

std::optional<uint64_t> MemoryLogStore::durable_term_at(uint64_t index) const {
  if (index == durable_.base_index) return durable_.base_term;
  auto it = durable_.log.find(index);
  if (it == durable_.log.end()) return std::nullopt;
  return it->second.term;
}

std::optional<uint64_t> MemoryLogStore::term_at(uint64_t index) const {
  if (index == current_.base_index) return current_.base_term;
  auto it = current_.log.find(index);
  if (it == current_.log.end()) return std::nullopt;
  return it->second.term;
}

void MemoryLogStore::crash(std::mt19937_64& rng) {
  size_t keep = unsynced_.empty() ? 0 : rng() % (unsynced_.size() + 1);
  State s = durable_;
  for (size_t i = 0; i < keep; ++i) apply(s, unsynced_[i]);
  current_ = s;
  durable_ = s;
  unsynced_.clear();
}

}  // namespace raftkv::storage

// The in-memory view of the Raft log: every entry after the last compaction
// point, and how much of it is known to be durable.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "raft/types.h"

namespace raftkv::raft {

class RaftLog {
 public:
  // `base_index`/`base_term` name the entry just before `entries` (0/0 for an
  // empty, never-compacted log). Restored entries are durable by definition.
  RaftLog(uint64_t base_index, uint64_t base_term, std::vector<Entry> entries);

  uint64_t first_index() const { return base_index_ + 1; }
  uint64_t last_index() const { return base_index_ + entries_.size(); }
  uint64_t last_term() const { return term_at(last_index()).value_or(0); }
  uint64_t base_index() const { return base_index_; }
  uint64_t base_term() const { return base_term_; }
  // Bytes of entry data held in memory (for compaction by size).
  uint64_t bytes() const { return bytes_; }
  // Entries up to here are on disk.
  uint64_t stable_index() const { return stable_; }

  // Term of the entry at `index`; nullopt when compacted away or beyond the end.
  std::optional<uint64_t> term_at(uint64_t index) const;
  const Entry& at(uint64_t index) const { return entries_[index - first_index()]; }

  // True if the candidate log (last_term, last_index) is at least as up to
  // date as ours (Raft §5.4.1).
  bool is_up_to_date(uint64_t last_index, uint64_t last_term) const;

  // Appends entries from a leader after prev (which must match). Truncates a
  // conflicting suffix.
  struct AppendResult {
    uint64_t last_new = 0;  // the index of the last new entry
    // The first index overwritten when a conflicting suffix went, if any.
    std::optional<uint64_t> truncated_from;
  };
  AppendResult append_from_leader(uint64_t prev, const std::vector<Entry>& entries);
  void append(Entry e);

  // Entries [lo, hi], at most max_count and roughly max_bytes (always >= 1).
  std::vector<Entry> slice(uint64_t lo, uint64_t hi, size_t max_count, size_t max_bytes) const;

  // Entries not yet durable, in order.
  std::vector<Entry> unstable() const;
  // The caller persisted everything up to `index` written while the entry at
  // `index` had term `term`; ignored if that entry has since been replaced.
  void stable_to(uint64_t index, uint64_t term);

  // Drops entries up to and including `index` (already applied and durable).
  void compact_to(uint64_t index);
  // Replaces the whole log with a snapshot point.
  void reset_to_snapshot(uint64_t index, uint64_t term);

  // The first index in our log holding `term`, searching down from `from`.
  uint64_t first_index_of_term(uint64_t term, uint64_t from) const;
  // The last index <= from whose term is <= term (0 if none known).
  uint64_t last_index_with_term_at_most(uint64_t term, uint64_t from) const;

 private:
  uint64_t base_index_;
  uint64_t base_term_;
  std::deque<Entry> entries_;
  uint64_t stable_;
  uint64_t bytes_ = 0;
};

}  // namespace raftkv::raft

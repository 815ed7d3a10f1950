#include "raft/log.h"

#include <algorithm>

#include "raft/check.h"

namespace raftkv::raft {

RaftLog::RaftLog(uint64_t base_index, uint64_t base_term, std::vector<Entry> entries)
    : base_index_(base_index),
      base_term_(base_term),
      entries_(std::make_move_iterator(entries.begin()), std::make_move_iterator(entries.end())) {
  stable_ = last_index();
  for (const Entry& e : entries_) bytes_ += e.data.size();
}

std::optional<uint64_t> RaftLog::term_at(uint64_t index) const {
  if (index == base_index_) return base_term_;
  if (index < base_index_ || index > last_index()) return std::nullopt;
  return at(index).term;
}

bool RaftLog::is_up_to_date(uint64_t index, uint64_t term) const {
  uint64_t lt = last_term();
  return term > lt || (term == lt && index >= last_index());
}

RaftLog::AppendResult RaftLog::append_from_leader(uint64_t prev,
                                                  const std::vector<Entry>& entries) {
  AppendResult r{prev + entries.size(), std::nullopt};
  for (const Entry& e : entries) {
    if (e.index <= base_index_) continue;  // already compacted, hence committed
    auto t = term_at(e.index);
    if (t && *t == e.term) continue;  // already have it
    if (t) {
      // Conflict: a suffix from an old term is overwritten. Committed entries
      // never conflict, so this never truncates below the commit index.
      auto from = entries_.begin() + static_cast<long>(e.index - first_index());
      for (auto it = from; it != entries_.end(); ++it) bytes_ -= it->data.size();
      entries_.erase(from, entries_.end());
      stable_ = std::min(stable_, e.index - 1);
      if (!r.truncated_from) r.truncated_from = e.index;
    }
    bytes_ += e.data.size();
    entries_.push_back(e);
  }
  return r;
}

void RaftLog::append(Entry e) {
  RAFTKV_CHECK(e.index == last_index() + 1, "a leader appends right after its last entry");
  bytes_ += e.data.size();
  entries_.push_back(std::move(e));
}

std::vector<Entry> RaftLog::slice(uint64_t lo, uint64_t hi, size_t max_count,
                                  size_t max_bytes) const {
  std::vector<Entry> out;
  size_t bytes = 0;
  for (uint64_t i = std::max(lo, first_index()); i <= hi && i <= last_index(); ++i) {
    const Entry& e = at(i);
    if (!out.empty() && (out.size() >= max_count || bytes + e.data.size() > max_bytes)) break;
    bytes += e.data.size() + 24;
    out.push_back(e);
  }
  return out;
}

std::vector<Entry> RaftLog::unstable() const {
  std::vector<Entry> out;
  for (uint64_t i = std::max(stable_ + 1, first_index()); i <= last_index(); ++i)
    out.push_back(at(i));
  return out;
}

void RaftLog::stable_to(uint64_t index, uint64_t term) {
  auto t = term_at(index);
  if (t && *t == term && index > stable_) stable_ = index;
}

void RaftLog::compact_to(uint64_t index) {
  if (index <= base_index_) return;
  index = std::min({index, stable_, last_index()});
  RAFTKV_CHECK(term_at(index).has_value(), "compaction point is in the log");
  base_term_ = *term_at(index);
  auto end = entries_.begin() + static_cast<long>(index - base_index_);
  for (auto it = entries_.begin(); it != end; ++it) bytes_ -= it->data.size();
  entries_.erase(entries_.begin(), end);
  base_index_ = index;
}

void RaftLog::reset_to_snapshot(uint64_t index, uint64_t term) {
  entries_.clear();
  bytes_ = 0;
  base_index_ = index;
  base_term_ = term;
  stable_ = index;
}

uint64_t RaftLog::first_index_of_term(uint64_t term, uint64_t from) const {
  uint64_t i = std::min(from, last_index());
  while (i > first_index() && term_at(i - 1) == term) --i;
  return i;
}

uint64_t RaftLog::last_index_with_term_at_most(uint64_t term, uint64_t from) const {
  uint64_t i = std::min(from, last_index());
  while (i > base_index_) {
    if (at(i).term <= term) return i;
    --i;
  }
  return base_index_;  // base entry's term is unknown relative to `term`; a safe floor
}

}  // namespace raftkv::raft

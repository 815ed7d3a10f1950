// Reference models of the storage contracts (log_storage.h, kv_storage.h)
// and seeded generators of operation sequences, shared by the contract test
// suite and its SIGKILL child. A sequence is run against a real store and,
// op by op, against the model; after a crash the store must equal the model
// after some prefix of the sequence that includes every op that was durable
// when it returned (so losses are a suffix of unsynced ops, never a hole or
// a reordering, and every op is whole or absent).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "storage/kv_storage.h"
#include "storage/log_storage.h"

namespace raftkv::storage::contract {

// ---- log ---------------------------------------------------------------------

struct LogModel {
  raft::HardState hs;
  uint64_t base_index = 0, base_term = 0;
  std::map<uint64_t, raft::Entry> log;

  uint64_t last_index() const { return log.empty() ? base_index : log.rbegin()->first; }
  uint64_t last_term() const { return log.empty() ? base_term : log.rbegin()->second.term; }
  uint64_t term_at(uint64_t i) const { return i == base_index ? base_term : log.at(i).term; }

  bool matches(const raft::Restored& r) const {
    if (!(r.hard_state == hs) || r.base_index != base_index || r.base_term != base_term) {
      return false;
    }
    if (r.entries.size() != log.size()) return false;
    size_t i = 0;
    for (const auto& [index, e] : log) {
      if (!(r.entries[i++] == e)) return false;
    }
    return true;
  }
};

struct LogOp {
  enum class Kind { kSave, kCompact, kReset } kind = Kind::kSave;
  std::optional<raft::HardState> hs;
  std::vector<raft::Entry> entries;
  uint64_t index = 0, term = 0;
  // The contract says the op is durable when it returns.
  bool durable = false;
};

inline void apply(LogModel& m, const LogOp& op) {
  switch (op.kind) {
    case LogOp::Kind::kSave:
      if (!op.entries.empty()) {
        m.log.erase(m.log.lower_bound(op.entries.front().index), m.log.end());
        for (const raft::Entry& e : op.entries) m.log[e.index] = e;
      }
      if (op.hs) m.hs = *op.hs;
      return;
    case LogOp::Kind::kCompact:
      if (op.index <= m.base_index) return;
      m.log.erase(m.log.begin(), m.log.upper_bound(op.index));
      m.base_index = op.index;
      m.base_term = op.term;
      return;
    case LogOp::Kind::kReset:
      m.log.clear();
      m.base_index = op.index;
      m.base_term = op.term;
      m.hs = *op.hs;
      return;
  }
}

inline void run(LogStorage& s, const LogOp& op) {
  switch (op.kind) {
    case LogOp::Kind::kSave:
      s.save(op.hs, op.entries);
      return;
    case LogOp::Kind::kCompact:
      s.compact(op.index, op.term);
      return;
    case LogOp::Kind::kReset:
      s.reset_to_snapshot(op.index, op.term, *op.hs);
      return;
  }
}

inline std::string random_bytes(std::mt19937_64& rng, size_t max_len) {
  std::string s(rng() % (max_len + 1), '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// A Raft-like history: appends, suffix replacements above the commit
// index in a newer term, term/vote changes, commit-only updates,
// compactions up to the commit index and snapshot resets. Every prefix of
// it leaves a log that load() must accept.
inline std::vector<LogOp> generate_log_ops(uint64_t seed, size_t n) {
  std::mt19937_64 rng(seed);
  LogModel m;
  std::vector<LogOp> ops;
  const char* voters[] = {"", "n1", "n2", "n3"};
  auto entries = [&](uint64_t first, size_t count, uint64_t term) {
    std::vector<raft::Entry> es;
    for (uint64_t i = first; i < first + count; ++i) {
      auto type = rng() % 8 == 0 ? raft::EntryType::kNoop : raft::EntryType::kNormal;
      es.push_back({term, i, type, random_bytes(rng, 64)});
    }
    return es;
  };
  while (ops.size() < n) {
    LogOp op;
    raft::HardState hs = m.hs;
    uint64_t term = std::max(hs.term, m.last_term());
    uint64_t floor = std::max(hs.commit, m.base_index);  // never truncated or reset below
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2: {  // append, sometimes with a commit move in the same batch
        op.entries = entries(m.last_index() + 1, 1 + rng() % 4, std::max<uint64_t>(term, 1));
        if (hs.term == 0) hs.term = 1;
        if (rng() % 2) hs.commit += rng() % (op.entries.back().index - hs.commit + 1);
        op.hs = hs;
        break;
      }
      case 3: {  // a new leader replaces an uncommitted suffix
        if (m.last_index() <= floor) continue;
        uint64_t from = floor + 1 + rng() % (m.last_index() - floor);
        hs.term = term + 1;
        hs.vote = voters[rng() % 4];
        op.hs = hs;
        op.entries = entries(from, 1 + rng() % 3, hs.term);
        break;
      }
      case 4: {  // term and/or vote change alone
        hs.term = hs.term + rng() % 2;
        hs.vote = voters[rng() % 4];
        if (hs.term == m.hs.term && hs.vote == m.hs.vote) hs.term++;
        hs.term = std::max(hs.term, term);
        op.hs = hs;
        break;
      }
      case 5:
      case 6: {  // commit-only
        if (m.last_index() <= hs.commit) continue;
        hs.commit += 1 + rng() % (m.last_index() - hs.commit);
        op.hs = hs;
        break;
      }
      case 7:
      case 8: {  // compact up to the commit index
        if (hs.commit <= m.base_index) continue;
        op.kind = LogOp::Kind::kCompact;
        op.index = m.base_index + 1 + rng() % (hs.commit - m.base_index);
        op.term = m.term_at(op.index);
        break;
      }
      case 9: {  // snapshot install
        if (rng() % 3) continue;
        op.kind = LogOp::Kind::kReset;
        op.index = std::max(floor, m.last_index()) + rng() % 6;
        op.term = std::max(term, m.term_at(m.last_index()));
        hs.term = std::max(hs.term, op.term);
        hs.commit = op.index;
        op.hs = hs;
        break;
      }
    }
    // Which ops must be durable on return (log_storage.h): entries, a
    // term or vote change, and a reset. Commit-only saves and compactions
    // need not be.
    op.durable = op.kind == LogOp::Kind::kReset ||
                 (op.kind == LogOp::Kind::kSave &&
                  (!op.entries.empty() || op.hs->term != m.hs.term || op.hs->vote != m.hs.vote));
    apply(m, op);
    ops.push_back(std::move(op));
  }
  return ops;
}

// Counts of ops a crash must keep: `completed` ops returned; the one after
// them may have been in flight. The store after the crash must equal the
// model after k ops for some k in [last durable op among the completed,
// completed + 1]. Returns the k found, or -1.
inline int find_log_prefix(const std::vector<LogOp>& ops, size_t completed,
                           const raft::Restored& r) {
  size_t lo = 0;
  for (size_t j = 0; j < completed; ++j) {
    if (ops[j].durable) lo = j + 1;
  }
  size_t hi = std::min(completed + 1, ops.size());
  LogModel m;
  for (size_t k = 0; k <= hi; ++k) {
    if (k > 0) apply(m, ops[k - 1]);
    if (k >= lo && m.matches(r)) return static_cast<int>(k);
  }
  return -1;
}

// ---- kv ------------------------------------------------------------------------

struct KvModel {
  // A constructor rather than an aggregate, so the many maps spelled
  // without a membership need not name it.
  KvModel(std::map<std::string, std::string> d = {}, uint64_t a = 0, uint64_t t = 0,
          std::optional<std::string> m = std::nullopt)
      : data(std::move(d)), applied(a), applied_term(t), membership(std::move(m)) {}
  std::map<std::string, std::string> data;
  uint64_t applied = 0, applied_term = 0;
  std::optional<std::string> membership;
  bool operator==(const KvModel&) const = default;
};

struct KvOp {
  // kBegin starts a snapshot writer (abandoning an open one); kAdd streams
  // pairs into it; kCommit makes it the map; kAbandon destroys it.
  enum class Kind { kApply, kSync, kBegin, kAdd, kCommit, kAbandon };
  KvOp(Kind k = Kind::kApply, KvPairs p = {}, uint64_t i = 0, uint64_t t = 0,
       std::optional<std::string> m = std::nullopt)
      : kind(k), pairs(std::move(p)), index(i), term(t), membership(std::move(m)) {}
  Kind kind;
  KvPairs pairs;
  uint64_t index = 0, term = 0;
  // kApply: recorded when set; kBegin: the snapshot's (nullopt clears it).
  std::optional<std::string> membership;
  bool durable() const { return kind == Kind::kSync || kind == Kind::kCommit; }
};

// The membership a generated apply or install at `index` carries. A pure
// function of the index, so a membership recovered with the wrong applied
// point shows; a few applies and installs carry none.
inline std::optional<std::string> apply_membership(uint64_t index) {
  if (index % 3 == 0) return std::nullopt;
  return "members@" + std::to_string(index);
}
inline std::optional<std::string> install_membership(uint64_t index) {
  if (index % 4 == 0) return std::nullopt;
  return "snapshot@" + std::to_string(index);
}
// The membership after applies 1..applied, each with apply_membership().
inline std::optional<std::string> applied_membership(uint64_t applied) {
  if (applied == 0) return std::nullopt;
  return apply_membership(applied % 3 == 0 ? applied - 1 : applied);
}
// The apply at `index` of the membership SIGKILL test: a padded value, so
// the kill lands amid real write traffic.
inline KvWrites membership_test_apply(uint64_t index) {
  return {{"k", std::to_string(index)}, {"pad", std::string(2000, static_cast<char>(index))}};
}

// What the model needs to know about an install in progress.
struct KvModelState {
  KvModel map;
  std::optional<KvModel> staged;
};

inline void apply(KvModelState& s, const KvOp& op) {
  switch (op.kind) {
    case KvOp::Kind::kApply:
      for (const auto& [k, v] : op.pairs) s.map.data[k] = v;
      s.map.applied = op.index;
      s.map.applied_term = op.term;
      if (op.membership) s.map.membership = op.membership;
      return;
    case KvOp::Kind::kSync:
      return;
    case KvOp::Kind::kBegin:
      s.staged = KvModel{{}, op.index, op.term, op.membership};
      return;
    case KvOp::Kind::kAdd:
      for (const auto& [k, v] : op.pairs) s.staged->data[k] = v;
      return;
    case KvOp::Kind::kCommit:
      s.map = std::move(*s.staged);
      s.staged.reset();
      return;
    case KvOp::Kind::kAbandon:
      s.staged.reset();
      return;
  }
}

// Runs ops against a store, holding the open writer between ops.
class KvRunner {
 public:
  explicit KvRunner(KvStorage& kv) : kv_(kv) {}
  void run(const KvOp& op) {
    switch (op.kind) {
      case KvOp::Kind::kApply:
        kv_.apply(KvWrites(op.pairs.begin(), op.pairs.end()), op.index, op.term, op.membership);
        return;
      case KvOp::Kind::kSync:
        kv_.sync();
        return;
      case KvOp::Kind::kBegin:
        writer_ = kv_.begin_snapshot(op.index, op.term, op.membership);
        return;
      case KvOp::Kind::kAdd:
        writer_->add(op.pairs);
        return;
      case KvOp::Kind::kCommit:
        writer_->commit();
        writer_.reset();
        return;
      case KvOp::Kind::kAbandon:
        writer_.reset();
        return;
    }
  }
  // Before a crash: a writer must not outlive its store.
  void drop_writer() { writer_.reset(); }

 private:
  KvStorage& kv_;
  std::unique_ptr<KvStorage::SnapshotWriter> writer_;
};

struct KvGenOptions {
  size_t keys = 40;           // key pool, so applies overwrite and installs drop keys
  size_t max_value = 100;     // bytes, arbitrary (including NUL)
  size_t install_pairs = 30;  // upper bound of pairs an install streams
  size_t chunk_pairs = 8;     // pairs per add()
};

// Bigger installs for the SIGKILL test, so kills land inside them.
inline const KvGenOptions kKillTestKvOptions{3000, 1000, 3000, 200};

inline std::vector<KvOp> generate_kv_ops(uint64_t seed, size_t n, const KvGenOptions& o = {}) {
  std::mt19937_64 rng(seed);
  std::vector<KvOp> ops;
  uint64_t applied = 0, term = 1;
  auto key = [&] { return std::string("k").append(std::to_string(rng() % o.keys)); };
  while (ops.size() < n) {
    uint64_t r = rng() % 20;
    if (r < 13) {
      ++applied;
      KvOp op{KvOp::Kind::kApply, {}, applied, term, apply_membership(applied)};
      size_t puts = rng() % 4;  // zero puts: a no-op entry still moves the applied point
      for (size_t i = 0; i < puts; ++i)
        op.pairs.emplace_back(key(), random_bytes(rng, o.max_value));
      ops.push_back(std::move(op));
    } else if (r < 16) {
      ops.push_back({KvOp::Kind::kSync, {}, 0, 0});
    } else {
      // An install at a later point, in chunks; sometimes abandoned
      // (explicitly or by a newer begin), usually committed.
      if (rng() % 3 == 0) ++term;
      applied += 1 + rng() % 20;
      ops.push_back({KvOp::Kind::kBegin, {}, applied, term, install_membership(applied)});
      size_t total = rng() % (o.install_pairs + 1);
      std::map<std::string, std::string> pairs;
      while (pairs.size() < total && pairs.size() < o.keys) {
        pairs[key() + (rng() % 2 ? "" : "s")] = random_bytes(rng, o.max_value);
      }
      KvOp add{KvOp::Kind::kAdd, {}, 0, 0};
      for (auto& p : pairs) {
        add.pairs.push_back(p);
        if (add.pairs.size() == o.chunk_pairs) {
          ops.push_back(add);
          add.pairs.clear();
        }
      }
      if (!add.pairs.empty() || total == 0) ops.push_back(add);
      uint64_t end = rng() % 10;
      if (end == 0) {
        ops.push_back({KvOp::Kind::kAbandon, {}, 0, 0});
      } else if (end == 1) {
        continue;  // the next begin supersedes it, or it is left open
      } else {
        ops.push_back({KvOp::Kind::kCommit, {}, 0, 0});
      }
    }
  }
  ops.resize(n);  // drops a suffix only, so every kAdd/kCommit keeps its kBegin
  return ops;
}

// The whole store as the model sees it, read through a SnapshotReader.
inline KvModel dump(KvStorage& kv, size_t chunk_bytes = 4096) {
  KvModel out;
  auto r = kv.read_snapshot();
  out.applied = r->index();
  out.applied_term = r->term();
  out.membership = r->membership();
  while (!r->done()) {
    KvPairs chunk = r->next_chunk(chunk_bytes);
    if (chunk.empty()) throw std::runtime_error("next_chunk returned nothing before done()");
    for (auto& [k, v] : chunk) out.data[k] = std::move(v);
  }
  return out;
}

inline int find_kv_prefix(const std::vector<KvOp>& ops, size_t completed, const KvModel& got) {
  size_t lo = 0;
  for (size_t j = 0; j < completed; ++j) {
    if (ops[j].durable()) lo = j + 1;
  }
  size_t hi = std::min(completed + 1, ops.size());
  KvModelState s;
  for (size_t k = 0; k <= hi; ++k) {
    if (k > 0) apply(s, ops[k - 1]);
    if (k >= lo && s.map == got) return static_cast<int>(k);
  }
  return -1;
}

// ---- back-to-back installs (the SIGKILL install test) ---------------------------
//
// The writer installs a snapshot at every multiple of 10, each with its own
// key set (so a mix of two is visible), then applies 3 entries on top, and
// so on. The map at applied index a is therefore known exactly:
// install_map(a - a % 10) plus the first a % 10 of its applies.

inline std::map<std::string, std::string> install_map(uint64_t index) {
  std::mt19937_64 rng(index * 7919 + 1);
  std::map<std::string, std::string> m;
  size_t n = 500 + rng() % 4000;
  uint64_t stride = 1 + index / 10 % 5;
  for (size_t j = 0; j < n; ++j) {
    m[std::string("s").append(std::to_string(j * stride))] = random_bytes(rng, 400);
  }
  return m;
}

inline KvPairs install_apply(uint64_t index) {  // the apply at index (not a multiple of 10)
  return {{"after", std::to_string(index)}, {std::string("s").append(std::to_string(index)), "x"}};
}

inline KvModel install_state(uint64_t applied) {
  uint64_t base = applied - applied % 10;
  KvModel m{install_map(base), base, base / 10, install_membership(base)};
  for (uint64_t i = base + 1; i <= applied; ++i) {
    for (auto& [k, v] : install_apply(i)) m.data[k] = v;
    m.applied = i;
    if (auto members = apply_membership(i)) m.membership = members;
  }
  return m;
}

}  // namespace raftkv::storage::contract

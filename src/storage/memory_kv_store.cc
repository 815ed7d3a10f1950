#include "storage/memory_kv_store.h"

namespace raftkv::storage {

void MemoryKvStore::apply_to(State& s, const Apply& a) {
  for (const auto& [k, v] : a.writes) {
    if (v) {
      s.data[k] = *v;
    } else {
      s.data.erase(k);
    }
  }
  s.applied = a.applied;
  s.applied_term = a.applied_term;
  if (a.membership) s.membership = a.membership;
}

std::optional<std::string> MemoryKvStore::get(const std::string& key) {
  auto it = current_.data.find(key);
  if (it == current_.data.end()) return std::nullopt;
  return it->second;
}

void MemoryKvStore::apply(const KvWrites& writes, uint64_t applied, uint64_t applied_term,
                          const std::optional<std::string>& membership) {
  Apply a{writes, applied, applied_term, membership};
  apply_to(current_, a);
  unsynced_.push_back(std::move(a));
}

void MemoryKvStore::sync() {
  durable_ = current_;
  unsynced_.clear();
}

void MemoryKvStore::crash(std::mt19937_64& rng) {
  size_t keep = unsynced_.empty() ? 0 : rng() % (unsynced_.size() + 1);
  State s = durable_;
  for (size_t i = 0; i < keep; ++i) apply_to(s, unsynced_[i]);
  current_ = s;
  durable_ = s;
  unsynced_.clear();
  // A writer from before the crash belongs to the dead process: it must
  // not commit into the restarted store.
  ++writer_generation_;
}

class MemoryKvStore::Reader final : public SnapshotReader {
 public:
  explicit Reader(const State& s) : state_(s), it_(state_.data.begin()) {}
  uint64_t index() const override { return state_.applied; }
  uint64_t term() const override { return state_.applied_term; }
  std::optional<std::string> membership() const override { return state_.membership; }
  bool done() const override { return it_ == state_.data.end(); }
  KvPairs next_chunk(size_t max_bytes) override {
    KvPairs out;
    size_t bytes = 0;
    for (; it_ != state_.data.end(); ++it_) {
      size_t size = it_->first.size() + it_->second.size();
      if (!out.empty() && bytes + size > max_bytes) break;
      bytes += size;
      out.emplace_back(it_->first, it_->second);
    }
    return out;
  }

 private:
  const State state_;  // a copy: the simulation's maps are small
  std::map<std::string, std::string>::const_iterator it_;
};

std::unique_ptr<KvStorage::SnapshotReader> MemoryKvStore::read_snapshot() {
  return std::make_unique<Reader>(current_);
}

class MemoryKvStore::Writer final : public SnapshotWriter {
 public:
  Writer(MemoryKvStore& store, uint64_t index, uint64_t term, std::optional<std::string> membership)
      : store_(store), generation_(++store.writer_generation_) {
    staged_.applied = index;
    staged_.applied_term = term;
    staged_.membership = std::move(membership);  // replaces, nullopt included
  }
  void add(const KvPairs& pairs) override {
    check();
    for (const auto& [k, v] : pairs) staged_.data[k] = v;
  }
  void commit() override {
    check();
    store_.current_ = std::move(staged_);
    store_.sync();
    generation_ = 0;
  }

 private:
  void check() const {
    if (generation_ != store_.writer_generation_) {
      throw StorageError("memory kv: snapshot writer used after it was superseded or committed");
    }
  }
  MemoryKvStore& store_;
  uint64_t generation_;
  State staged_;
};

std::unique_ptr<KvStorage::SnapshotWriter> MemoryKvStore::begin_snapshot(
    uint64_t index, uint64_t term, std::optional<std::string> membership) {
  return std::make_unique<Writer>(*this, index, term, std::move(membership));
}

}  // namespace raftkv::storage

#include "kv/state_machine.h"

#include <unordered_map>

#include "resp/number.h"

namespace raftkv::kv {

// The map as the commands of one batch see it: later commands must see
// earlier ones before the batch is written, so writes are staged here.
class StateMachine::View {
 public:
  explicit View(storage::KvStorage& store) : store_(store) {}

  std::optional<std::string> get(const std::string& key) {
    auto it = staged_.find(key);
    if (it != staged_.end()) return it->second;
    return store_.get(key);
  }
  void put(const std::string& key, std::optional<std::string> value) {
    staged_[key] = value;
    writes_.emplace_back(key, std::move(value));
  }
  const storage::KvWrites& writes() const { return writes_; }

 private:
  storage::KvStorage& store_;
  std::unordered_map<std::string, std::optional<std::string>> staged_;
  storage::KvWrites writes_;
};

namespace {

using Code = Result::Code;

Result execute_cas(const Command& c, std::optional<std::string> cur, StateMachine::View& view) {
  if (!cur && !c.create_if_not_exists) return {Code::kKeyDoesNotExist, {}};
  if (cur && *cur != c.from) return {Code::kPreconditionFailed, std::move(cur)};
  view.put(c.key, c.value);
  return {};
}

Result execute_set(const Command& c, std::optional<std::string> cur, StateMachine::View& view) {
  bool ok = true;
  switch (c.condition) {
    case Command::Condition::kNone:
      break;
    case Command::Condition::kIfAbsent:
      ok = !cur;
      break;
    case Command::Condition::kIfPresent:
      ok = cur.has_value();
      break;
    case Command::Condition::kIfEqual:
      ok = cur && *cur == c.from;
      break;
  }
  if (ok) view.put(c.key, c.value);
  Result r{Code::kOk, {}, ok ? 1 : 0};
  if (c.return_old) r.current = std::move(cur);
  return r;
}

Result execute_incr(const Command& c, const std::optional<std::string>& cur,
                    StateMachine::View& view) {
  int64_t base = 0;
  if (cur) {
    std::optional<int64_t> v = resp::parse_int64_strict(*cur);
    if (!v) return {Code::kNotAnInteger, {}};
    base = *v;
  }
  int64_t sum = 0;
  if (__builtin_add_overflow(base, c.delta, &sum)) return {Code::kNotAnInteger, {}};
  view.put(c.key, std::to_string(sum));
  return {Code::kOk, {}, sum};
}

}  // namespace

Result StateMachine::execute(const Command& c, View& view) {
  switch (c.op) {
    case Command::Op::kRead: {
      std::optional<std::string> cur = view.get(c.key);
      if (!cur) return {Code::kKeyDoesNotExist, {}};
      return {Code::kOk, std::move(cur)};
    }
    case Command::Op::kWrite:
      view.put(c.key, c.value);
      return {};
    case Command::Op::kCas:
      return execute_cas(c, view.get(c.key), view);
    case Command::Op::kSet:
      if (c.condition == Command::Condition::kNone && !c.return_old) {
        view.put(c.key, c.value);  // a plain SET needs no read
        return {Code::kOk, {}, 1};
      }
      return execute_set(c, view.get(c.key), view);
    case Command::Op::kIncrBy:
      return execute_incr(c, view.get(c.key), view);
    case Command::Op::kDelete: {
      Result r;
      for (const std::string& k : c.keys) {
        if (!view.get(k)) continue;
        view.put(k, std::nullopt);
        ++r.number;
      }
      return r;
    }
    case Command::Op::kExists: {
      Result r;
      for (const std::string& k : c.keys) r.number += view.get(k) ? 1 : 0;
      return r;
    }
  }
  return {Code::kInvalidCommand, {}};
}

int64_t StateMachine::count_existing(const std::vector<std::string>& keys) {
  int64_t n = 0;
  for (const std::string& k : keys) n += store_.get(k) ? 1 : 0;
  return n;
}

std::vector<Result> StateMachine::apply_range(std::span<const raft::Entry> entries) {
  std::vector<Result> results;
  if (entries.empty()) return results;
  results.reserve(entries.size());
  View view(store_);
  // The configuration is recorded with the applied point, so that it
  // survives log compaction and travels in snapshots.
  std::optional<std::string> membership;
  for (const raft::Entry& e : entries) {
    if (e.type == raft::EntryType::kConfig) membership = e.data;
    if (e.type != raft::EntryType::kNormal) {
      results.push_back({});
      continue;
    }
    std::optional<Command> c = decode(e.data);
    results.push_back(c ? execute(*c, view) : Result{Code::kInvalidCommand, {}});
  }
  store_.apply(view.writes(), entries.back().index, entries.back().term, membership);
  return results;
}

}  // namespace raftkv::kv

#include "kv/state_machine.h"

#include <unordered_map>

namespace raftkv::kv {

std::vector<Result> StateMachine::apply_range(std::span<const raft::Entry> entries) {
  std::vector<Result> results;
  if (entries.empty()) return results;
  results.reserve(entries.size());
  // Later commands in the batch must see earlier ones before the batch is
  // written, so writes are staged here first.
  std::unordered_map<std::string, std::string> staged;
  storage::KvPairs puts;
  auto current = [&](const std::string& key) -> std::optional<std::string> {
    auto it = staged.find(key);
    if (it != staged.end()) return it->second;
    return store_.get(key);
  };
  for (const raft::Entry& e : entries) {
    if (e.type != raft::EntryType::kNormal) {
      results.push_back({});
      continue;
    }
    std::optional<Command> c = decode(e.data);
    if (!c) {
      results.push_back({Result::Code::kInvalidCommand, {}});
      continue;
    }
    if (c->op == Command::Op::kRead) {
      std::optional<std::string> cur = current(c->key);
      if (cur) {
        results.push_back({Result::Code::kOk, *cur});
      } else {
        results.push_back({Result::Code::kKeyDoesNotExist, {}});
      }
      continue;
    }
    if (c->op == Command::Op::kCas) {
      std::optional<std::string> cur = current(c->key);
      if (!cur && !c->create_if_not_exists) {
        results.push_back({Result::Code::kKeyDoesNotExist, {}});
        continue;
      }
      if (cur && *cur != c->from) {
        results.push_back({Result::Code::kPreconditionFailed, *cur});
        continue;
      }
    }
    staged[c->key] = c->value;
    puts.emplace_back(c->key, c->value);
    results.push_back({});
  }
  store_.apply(puts, entries.back().index, entries.back().term);
  return results;
}

}  // namespace raftkv::kv

// The replicated key-value state machine: applies committed commands to the
// KV store and says what each one did. Keys and values are byte strings and
// compare as bytes; giving equal values equal bytes (canonical JSON text in
// the Maelstrom adapter) is the transport adapter's job.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kv/command.h"
#include "raft/types.h"
#include "storage/kv_storage.h"

namespace raftkv::kv {

struct Result {
  enum class Code { kOk, kKeyDoesNotExist, kPreconditionFailed, kInvalidCommand };
  Code code = Code::kOk;
  // The value found (empty when absent): kPreconditionFailed and reads.
  std::string current;
};

class StateMachine {
 public:
  explicit StateMachine(storage::KvStorage& store) : store_(store) {}

  // Applies committed entries in order (no-ops included) in one atomic batch
  // with the new applied index; returns one result per entry.
  std::vector<Result> apply(const std::vector<raft::Entry>& entries) {
    return apply_range(entries);
  }
  // The same for a slice of a batch, without copying it.
  std::vector<Result> apply_range(std::span<const raft::Entry> entries);

  // The current value of a key (JSON text), or nullopt when absent.
  std::optional<std::string> read(const std::string& key) { return store_.get(key); }
  uint64_t applied_index() const { return store_.applied_index(); }

 private:
  storage::KvStorage& store_;
};

}  // namespace raftkv::kv

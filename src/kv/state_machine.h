// The replicated key-value state machine: applies committed commands to the
// KV store and says what each one did.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kv/command.h"
#include "raft/types.h"
#include "storage/kv_store.h"

namespace raftkv::kv {

struct Result {
  enum class Code { kOk, kKeyDoesNotExist, kPreconditionFailed, kInvalidCommand };
  Code code = Code::kOk;
  // The value found (JSON; empty when absent): kPreconditionFailed and reads.
  std::string current;
};

// JSON text of a key in canonical form; nullopt if `json_text` is not JSON.
std::optional<std::string> canonical_key(std::string_view json_text);
// Whether two JSON texts denote the same JSON value.
bool json_equal(std::string_view a, std::string_view b);

class StateMachine {
 public:
  explicit StateMachine(storage::KvStore& store) : store_(store) {}

  // Applies committed entries in order (no-ops included) in one atomic batch
  // with the new applied index; returns one result per entry.
  std::vector<Result> apply(const std::vector<raft::Entry>& entries) {
    return apply_range(entries);
  }
  // The same for a slice of a batch, without copying it.
  std::vector<Result> apply_range(std::span<const raft::Entry> entries);

  // The current value of a key (JSON text), or nullopt when absent.
  std::optional<std::string> read(const std::string& canonical_key) {
    return store_.get(canonical_key);
  }
  uint64_t applied_index() const { return store_.applied_index(); }

 private:
  storage::KvStore& store_;
};

}  // namespace raftkv::kv

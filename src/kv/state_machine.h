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
  enum class Code { kOk, kKeyDoesNotExist, kPreconditionFailed, kInvalidCommand, kNotAnInteger };
  Code code = Code::kOk;
  // The value found: reads, cas's kPreconditionFailed, SET ... GET.
  std::optional<std::string> current;
  // set: 1 when it wrote, 0 when its condition failed; delete and exists:
  // how many keys; incrby: the new value.
  int64_t number = 0;
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

  // One command against a view of the map (the store plus the batch's
  // staged writes). Exposed for tests.
  class View;
  static Result execute(const Command& c, View& view);

  // The current value of a key, or nullopt when absent.
  std::optional<std::string> read(const std::string& key) { return store_.get(key); }
  // How many of the keys exist (a key named twice counts twice, as in Redis).
  int64_t count_existing(const std::vector<std::string>& keys);
  uint64_t applied_index() const { return store_.applied_index(); }

 private:
  storage::KvStorage& store_;
};

}  // namespace raftkv::kv

// Linearizability checker for per-key cas registers (Wing-Gong/Lowe search with
// Porcupine-style memoisation of (linearized set, state)).
//
// Model: every key starts absent. write v sets it; cas [from,to] succeeds only
// when the key is present and equals from; a read returning null is valid only
// while the key is absent. fail ops never happened; info ops and invokes with
// no completion may take effect at any instant after their invoke, or never.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "linearizability/history.h"

namespace lin {

enum class Verdict { kValid, kInvalid, kUnknown };
const char* to_string(Verdict v);  // "valid", "invalid", "unknown"

struct CheckOptions {
  // Total wall-clock budget for the whole history. When it runs out, keys not
  // yet decided are reported unknown (never valid).
  std::chrono::milliseconds budget{std::chrono::seconds(60)};
};

struct KeyReport {
  nlohmann::json key;
  Verdict verdict = Verdict::kUnknown;
  size_t ops = 0;  // operations on this key after dropping fails
  // For an invalid key: human-readable explanation naming the smallest window
  // of operations that cannot be linearized (one op per line).
  std::string explanation;
  std::vector<Event> window;  // the events of that window (invokes + completions)

  // The same violation in structured form, for pictures (the HTML report).
  // Ops are named by the history index of their invoke event. Filled only
  // for an invalid key, after the search, so it costs the search nothing.
  std::vector<size_t> prefix;      // longest linearizable prefix, in linearization order
  size_t stuck = kNoOp;            // the acknowledged op that cannot follow that prefix
  std::vector<size_t> window_ops;  // the window's ops, by invoke time
  std::string why;                 // one sentence: why `stuck` cannot be placed
  static constexpr size_t kNoOp = static_cast<size_t>(-1);
};

struct CheckReport {
  Verdict verdict = Verdict::kUnknown;  // invalid if any key is, else unknown if any is, else valid
  std::vector<KeyReport> keys;
  double seconds = 0;
};

// Checks a history given in real-time order (as the file lists it).
CheckReport check(const std::vector<Event>& history, const CheckOptions& options = {});

}  // namespace lin

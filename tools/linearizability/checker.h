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
};

struct CheckReport {
  Verdict verdict = Verdict::kUnknown;  // invalid if any key is, else unknown if any is, else valid
  std::vector<KeyReport> keys;
  double seconds = 0;
};

// Checks a history given in real-time order (as the file lists it).
CheckReport check(const std::vector<Event>& history, const CheckOptions& options = {});

}  // namespace lin

// Internal: the per-key search of the checker (exposed for checker.cc only).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <vector>

#include "linearizability/checker.h"

namespace lin::detail {

constexpr size_t kNoEvent = std::numeric_limits<size_t>::max();
constexpr int32_t kAbsent = -1;  // register state before any write

// One operation of one key. Values are interned to small ids per key, so the
// register state is an int32 (kAbsent or a value id).
struct Op {
  Fn f = Fn::kRead;
  bool ok = false;             // acknowledged: must be linearized. Else optional (info or
                               // never completed): may take effect any time after invoke.
  int32_t a = kAbsent;         // read: the state it saw; write: value; cas: from
  int32_t b = kAbsent;         // cas: to
  size_t invoke = 0;           // history index of the invoke
  size_t complete = kNoEvent;  // history index of the completion, if any
};

struct SearchResult {
  Verdict verdict = Verdict::kUnknown;
  // Invalid: the partial linearization (op indexes, in order) that linearized
  // the most acknowledged ops, and the state after it.
  std::vector<int32_t> prefix;
  int32_t state = kAbsent;
  uint64_t steps = 0;
};

// `ops` must list the `optional` optional ops first; the rest are
// acknowledged ops sorted by invoke (keeps the memo keys short, see search.cc).
SearchResult search(const std::vector<Op>& ops, size_t optional,
                    std::chrono::steady_clock::time_point deadline);

}  // namespace lin::detail

// Monotonic time in nanoseconds: every timestamp in the runner (history,
// timers, latency) uses this one clock so they compare directly.
#pragma once

#include <chrono>
#include <cstdint>

namespace runner {

inline int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int64_t kMs = 1'000'000;
constexpr int64_t kSec = 1'000'000'000;

}  // namespace runner

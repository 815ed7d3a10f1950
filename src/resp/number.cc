#include "resp/number.h"

#include <limits>

namespace raftkv::resp {

std::optional<int64_t> parse_int64_strict(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  if (s == "0") return 0;
  bool negative = s.front() == '-';
  if (negative) s.remove_prefix(1);
  if (s.empty() || s.front() < '1' || s.front() > '9') return std::nullopt;
  // Accumulate as unsigned so INT64_MIN (one past INT64_MAX) is representable.
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (negative) {
    if (v > kMax + 1) return std::nullopt;
    return v == kMax + 1 ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v);
  }
  if (v > kMax) return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace raftkv::resp

// Redis's strict integer syntax (string2ll): optional '-', no '+', no
// spaces, no leading zeros, within int64. "INCRBY k 007" and "$+3" are
// refused by Redis, so they are refused here too.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace raftkv::resp {

std::optional<int64_t> parse_int64_strict(std::string_view s);

}  // namespace raftkv::resp

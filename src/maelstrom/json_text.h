// JSON values as the key-value store sees them: canonical text.
//
// The server core stores and compares keys and values as byte strings. The
// Maelstrom adapter turns every key and value into one canonical JSON text
// first, so that equal JSON values are equal byte strings ({"a":1,"b":2} and
// {"b":2,"a":1} are one key) and different values differ (3 and "3").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "maelstrom/message.h"

namespace raftkv::maelstrom {

// The canonical text of a value taken from a parsed message.
std::string canonical_text(const Json& value);

// Parses a canonical text (as stored) back into a value for a reply;
// nullopt if it is not JSON.
std::optional<Json> parse_value(std::string_view text);

}  // namespace raftkv::maelstrom

// JSON values as the key-value store sees them: canonical text, and the one
// JSON parser every input line goes through.
//
// The server core stores and compares keys and values as byte strings. The
// Maelstrom adapter turns every key and value into one canonical JSON text
// first, so that equal JSON values are equal byte strings ({"a":1,"b":2} and
// {"b":2,"a":1} are one key) and different values differ (3 and "3").
//
// THE EQUALITY RULE. Two JSON values are equal iff their canonical texts are
// equal, byte for byte. This is the only equality keys, reads and cas use;
// never compare Json objects with operator== (nlohmann's compares -1 and
// 18446744073709551615 after a cast, and 1 and 1.0 as numbers).
//
// Canonical text:
//  - compact (no whitespace), objects with members sorted by key (bytewise on
//    the UTF-8 key; a duplicated key in the input keeps its last value);
//  - strings escaped as nlohmann::json dumps them (", \, \b \f \n \r \t, other
//    control characters as \u00xx; UTF-8 kept as is);
//  - integers in exact decimal, whatever their size: 18446744073709551615 and
//    -1 differ, 2^63 and -2^63 differ, 2^64 and 2^64+1 differ. "-0" is the
//    integer 0;
//  - a number with a fraction or exponent is an IEEE-754 double, rounded to
//    nearest when parsed, printed as the shortest text that reads back as the
//    same double, with ".0" when it is integral: 1.0, -0.0, 1e+20, 0.1.
//    Hence 1 and 1.0 are different values, and so are 0 and -0.0, and 100 and
//    1e2; 1.0 and 1.00 are the same value (both print 1.0);
//  - a number beyond the double range (|x| > 1.8e308, as a float or as an
//    integer literal of more than ~309 digits) is rejected by the parser.
//
// Integers outside [-2^63, 2^64-1] are held in the Json DOM as binary values
// with the private subtype kBigIntegerSubtype whose bytes are the ASCII digits
// (with a leading '-' when negative). serialize() (message.h) and
// canonical_text() write them back as the digits; nlohmann's own dump() would
// not, so never dump() a parsed value directly.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "maelstrom/message.h"

namespace raftkv::maelstrom {

// At most this many levels of nested arrays and objects in a line, counting
// the envelope and the body: a value in a client request may nest 126 levels.
// Anything deeper is rejected at the door (error 12), so no recursive code
// downstream (nlohmann's dump, comparisons) can run out of stack.
inline constexpr int kMaxJsonDepth = 128;

// Binary subtype marking a big integer (see above).
inline constexpr uint64_t kBigIntegerSubtype = 0xB161;

struct JsonParse {
  std::optional<Json> value;
  std::string error;      // set when value is empty
  int depth = 0;          // deepest nesting seen (1 for a flat object)
  bool too_deep = false;  // failed because of max_depth
};

// Strict parse of one JSON text: exact integers, at most `max_depth` levels,
// nothing but whitespace after the value (a NUL byte anywhere is an error).
// Never throws (except std::bad_alloc).
JsonParse parse_json(std::string_view text, int max_depth = kMaxJsonDepth);

// Compact JSON of `value` appended to `out`, objects in insertion order, or
// sorted by key when `sorted`. Not recursive: any depth is fine. Invalid
// UTF-8 in strings is replaced by U+FFFD. Never throws (except bad_alloc).
void write_json(std::string& out, const Json& value, bool sorted = false);

// The canonical text of a value taken from a parsed message.
std::string canonical_text(const Json& value);

// Parses a canonical text (as stored) back into a value for a reply;
// nullopt if it is not JSON (or nests deeper than kMaxJsonDepth).
std::optional<Json> parse_value(std::string_view text);

// canonical_text(a) == canonical_text(b).
bool same_value(const Json& a, const Json& b);

// Big integers. `digits` must match -?[1-9][0-9]* (else a null Json).
Json make_big_integer(std::string_view digits);
// The digits of a big integer, or nullopt when `value` is not one.
std::optional<std::string_view> big_integer_digits(const Json& value);

}  // namespace raftkv::maelstrom

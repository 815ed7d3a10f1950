// The Maelstrom wire format: one JSON object per line,
//   {"src":"c1","dest":"n1","body":{"type":"read","msg_id":3,"key":"x"}}
// Output is byte-for-byte stable: compact JSON, envelope keys in the order
// src, dest, body, and body keys in the order type, in_reply_to, msg_id,
// then the payload in insertion order. ordered_json keeps that order.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace raftkv::maelstrom {

using Json = nlohmann::ordered_json;

// Error codes from Maelstrom's protocol documentation.
enum class ErrorCode : int {
  kTimeout = 0,
  kNodeNotFound = 1,
  kNotSupported = 10,
  kTemporarilyUnavailable = 11,
  kMalformedRequest = 12,
  kCrash = 13,
  kAbort = 14,
  kKeyDoesNotExist = 20,
  kKeyAlreadyExists = 21,
  kPreconditionFailed = 22,
  kTxnConflict = 30,
};

// True for codes after which the operation certainly did not happen.
bool is_definite(int code);

struct Message {
  std::string src;
  std::string dest;
  Json body;  // always an object

  std::string type() const;               // "" when absent or not a string
  std::optional<int64_t> msg_id() const;  // nullopt when absent or not an integer
  std::optional<int64_t> in_reply_to() const;
};

struct ParseResult {
  std::optional<Message> message;
  std::string error;  // set when message is empty
  // The msg_id, src and dest of a message whose envelope parsed but whose body was
  // unusable, so the caller can still answer with an error.
  std::optional<int64_t> msg_id;
  std::string src;
  std::string dest;
};

// Parses one line. Rejects non-JSON (including a NUL byte anywhere and
// anything after the value), nesting deeper than kMaxJsonDepth (json_text.h;
// one level more for the "fwd" and "fwd_ok" wrappers, which carry a whole
// client body), a number beyond the double range, non-object envelopes,
// missing or non-string src/dest, and a body that is not an object with a
// string type. When the line is not JSON at all, src, dest and msg_id are
// still recovered when they can be (IdScanner), so the caller can answer with
// error 12. Integers keep their exact digits (json_text.h). Never throws
// (except std::bad_alloc).
ParseResult parse(std::string_view line);

// Recovers "src", "dest" (top-level strings) and the body's integer
// "msg_id" from JSON that may be invalid, truncated or too long to keep:
// bytes stream through in chunks and memory stays bounded (no recursion, no
// buffering of values; src/dest longer than 1 KiB are not recovered). Stops
// at the first byte that cannot be JSON (a NUL, stray garbage) or once the
// top-level value is complete. Duplicate keys: the last one wins, as in
// parse().
class IdScanner {
 public:
  void feed(std::string_view bytes);
  // Fills r.src, r.dest and r.msg_id with what was found.
  void fill(ParseResult& r) const;

 private:
  void byte(char c);
  void end_token();
  void value_start();
  bool capturing_key() const;
  bool in_body() const { return depth_ == 2 && outer_ == '{' && inner_ == '{' && key1_ == "body"; }

  enum class State { kBetween, kString, kStringEscape, kBare, kDone };
  State state_ = State::kBetween;
  uint64_t depth_ = 0;
  char outer_ = 0;  // container at depth 1
  char inner_ = 0;  // container at depth 2
  bool expect_key_ = false;
  bool token_is_key_ = false;
  bool capture_ = false;   // keep the current token's bytes
  bool overflow_ = false;  // the kept bytes hit the cap
  std::string token_;
  std::string key1_, key2_;  // the current keys at depths 1 and 2
  std::optional<std::string> src_, dest_;
  std::optional<int64_t> msg_id_;
};

// The ParseResult for a line longer than the limit, from an IdScanner that
// saw as much of it as was read: error set, src/dest/msg_id recovered.
ParseResult parse_oversized(const IdScanner& scanned, size_t total, size_t limit);
// The same from the head of such a line.
ParseResult parse_oversized(std::string_view head, size_t total, size_t limit);

// Compact, ordered serialisation without a trailing newline. Big integers
// are written as their digits. Never throws (except std::bad_alloc).
std::string serialize(const Message& m);

// A body with keys in protocol order: type, in_reply_to (if any), msg_id
// (if any). Payload fields are appended by the caller in the order wanted.
Json make_body(std::string_view type, std::optional<int64_t> in_reply_to,
               std::optional<int64_t> msg_id);

// An "error" reply body: type, in_reply_to, msg_id, code, text.
Json make_error(int64_t in_reply_to, std::optional<int64_t> msg_id, ErrorCode code,
                std::string_view text);

}  // namespace raftkv::maelstrom

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

// Parses one line. Rejects non-JSON, non-object envelopes, missing or
// non-string src/dest, and a body that is not an object with a string type.
ParseResult parse(std::string_view line);

// Compact, ordered serialisation without a trailing newline.
std::string serialize(const Message& m);

// A body with keys in protocol order: type, in_reply_to (if any), msg_id
// (if any). Payload fields are appended by the caller in the order wanted.
Json make_body(std::string_view type, std::optional<int64_t> in_reply_to,
               std::optional<int64_t> msg_id);

// An "error" reply body: type, in_reply_to, msg_id, code, text.
Json make_error(int64_t in_reply_to, std::optional<int64_t> msg_id, ErrorCode code,
                std::string_view text);

}  // namespace raftkv::maelstrom

// The lin-kv operations in the Redis protocol (RESP2), for --net netns:
// read -> GET k, write -> SET k v, cas -> SET k to IFEQ from (raftkv) or an
// atomic Lua script (Redis 7.0 has no IFEQ). Keys and values are the lin-kv
// integers as decimal text. Replies are turned back into the Maelstrom reply
// bodies the runner's client logic already classifies, so both modes share
// one set of outcome rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "maelstrom/message.h"

namespace runner {

enum class CasStyle { kIfeq, kEval };

// Encodes a Maelstrom lin-kv request body (read/write/cas) as a RESP command.
// Returns "" for anything else.
std::string resp_request(const raftkv::maelstrom::Json& body, CasStyle cas);

struct RespReply {
  enum Kind { kSimple, kError, kInteger, kBulk, kNil, kArray } kind = kNil;
  std::string text;  // simple string, error message or bulk string
  int64_t integer = 0;
  std::vector<RespReply> elements;
};

// Incremental reader of RESP2 replies (and RESP3's null): feed bytes, take
// complete replies. A protocol error makes it unusable (error() says why).
class RespReplyReader {
 public:
  void feed(const char* data, size_t n) { buf_.append(data, n); }
  // The next complete reply, or nullopt if more bytes are needed.
  std::optional<RespReply> next();
  const std::string& error() const { return error_; }

 private:
  // Parses one reply at pos_; false if incomplete (pos_ unchanged).
  bool parse(size_t* pos, RespReply* out, int depth);
  std::string buf_;
  std::string error_;
};

// The Maelstrom reply body for a RESP reply to a request of type f (read,
// write or cas), with in_reply_to set:
//   read: bulk -> read_ok (integer value when the text is one), nil -> error
//         20 (absent);
//   write/cas: OK -> write_ok/cas_ok; cas nil -> error 22 (precondition
//         failed, also for a missing key: absent never equals `from`);
//   errors: "UNCERTAIN..." -> 13 (indefinite), anything else -> 11
//         (definite, e.g. TRYAGAIN); an unexpected reply -> 13.
raftkv::maelstrom::Json maelstrom_reply(const std::string& f, int64_t in_reply_to,
                                        const RespReply& reply);
// A reply for a request that got no RESP answer: definite (never sent) ->
// error 11, else error 13.
raftkv::maelstrom::Json maelstrom_error(int64_t in_reply_to, int code, const std::string& text);

}  // namespace runner

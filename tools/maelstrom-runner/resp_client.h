// The lin-kv operations in the Redis protocol (RESP2), for --net netns:
// read -> GET k, write -> SET k v, cas -> SET k to IFEQ from (raftkv) or an
// atomic Lua script (Redis 7.0 has no IFEQ). Keys and values are the lin-kv
// integers as decimal text. Replies are turned back into the Maelstrom reply
// bodies the runner's client logic already classifies, so both modes share
// one set of outcome rules.
#pragma once

#include <cstdint>
#include <string>

#include "maelstrom/message.h"
#include "resp/reply.h"
#include "resp/reply_parser.h"

namespace runner {

enum class CasStyle { kIfeq, kEval };

// Encodes a Maelstrom lin-kv request body (read/write/cas) as a RESP command.
// Returns "" for anything else.
std::string resp_request(const raftkv::maelstrom::Json& body, CasStyle cas);

using RespReply = raftkv::resp::Reply;
using RespReplyReader = raftkv::resp::ReplyParser;

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

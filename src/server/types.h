// What flows in and out of the server core: typed client requests and
// replies, and typed messages between servers. No wire format here; each
// transport adapter maps its own encoding onto these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "raft/types.h"

namespace raftkv::server {

// Monotonic time in milliseconds, supplied by the caller (the event loop's
// clock, or the simulation's). The core never reads a clock.
using Millis = int64_t;
// The adapter's handle for a client request; echoed in the reply.
using RequestId = uint64_t;

struct ClientRequest {
  enum class Op : uint8_t { kRead, kWrite, kCas };
  Op op = Op::kRead;
  std::string key;
  std::string value;  // write; cas: the new value
  std::string from;   // cas: the expected current value
  bool create_if_not_exists = false;
};

enum class ReplyCode : uint8_t {
  kOk,
  kKeyDoesNotExist,
  kPreconditionFailed,
  kUnavailable,  // definite: the operation did not and will not take effect
  kIndefinite,   // the operation may or may not take effect
};

struct ClientReply {
  ReplyCode code = ReplyCode::kOk;
  // read: the value; kPreconditionFailed: the current value.
  std::optional<std::string> value;
  std::string text;  // for errors: a human-readable reason
};

// A follower relays a client request to the leader it knows...
struct ForwardRequest {
  uint64_t id = 0;  // chosen by the follower
  ClientRequest request;
};
// ...and the leader answers it through the follower.
struct ForwardReply {
  uint64_t id = 0;
  ClientReply reply;
};

using PeerMessage = std::variant<raft::Message, ForwardRequest, ForwardReply>;

}  // namespace raftkv::server

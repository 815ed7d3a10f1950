// What flows in and out of the server core: typed client requests and
// replies, and typed messages between servers. No wire format here; each
// transport adapter maps its own encoding onto these.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "kv/command.h"
#include "raft/types.h"

namespace raftkv::server {

// Monotonic time in milliseconds, supplied by the caller (the event loop's
// clock, or the simulation's). The core never reads a clock.
using Millis = int64_t;
// The adapter's handle for a client request; echoed in the reply.
using RequestId = uint64_t;

// A client's request is a state machine command (kv/command.h): what the
// log carries is exactly what the client asked.
using ClientRequest = kv::Command;

enum class ReplyCode : uint8_t {
  kOk,
  kKeyDoesNotExist,
  kPreconditionFailed,
  kUnavailable,   // definite: the operation did not and will not take effect
  kIndefinite,    // the operation may or may not take effect
  kNotAnInteger,  // definite: incr on a value that is not an integer, or overflow
};

struct ClientReply {
  ReplyCode code = ReplyCode::kOk;
  // read: the value; kPreconditionFailed: the current value; set with
  // return_old: the old value (nullopt when there was none).
  std::optional<std::string> value;
  std::string text;  // for errors: a human-readable reason
  // set: 1 written, 0 condition failed; delete, exists: how many keys;
  // incrby: the new value.
  int64_t number = 0;
};

// A reply that carries only an error code and its reason.
inline ClientReply error_reply(ReplyCode code, std::string text) {
  return ClientReply{code, std::nullopt, std::move(text)};
}

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

// An operator's request to change the cluster. Served by the leader only
// (a follower answers kUnavailable naming the leader); the reply comes once
// the change is committed, or the transfer done.
struct AdminRequest {
  enum class Op { kAddLearner, kAddVoter, kPromote, kRemove, kTransferLeader };
  Op op = Op::kAddLearner;
  raft::NodeId node;
  std::string address;  // additions: where the new member's peer port is (serve mode)
};

}  // namespace raftkv::server

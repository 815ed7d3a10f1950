// Raft messages between servers ride the Maelstrom channel as bodies of
// type "raft". Field names are short because heartbeats and appends are the
// bulk of all traffic.
#pragma once

#include <optional>
#include <string>

#include "maelstrom/message.h"
#include "raft/types.h"

namespace raftkv::maelstrom {

// Fills `body` (which already has type/msg_id) with the Raft fields.
void encode_raft(const raft::Message& m, Json& body);
// nullopt (with *error set) when the body is not a well-formed Raft message.
std::optional<raft::Message> decode_raft(const Message& msg, std::string* error);

}  // namespace raftkv::maelstrom

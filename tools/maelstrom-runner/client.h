// A simulated Maelstrom client: one outstanding request at a time, msg_ids
// from 1, replies to anything but the current request ignored (as
// maelstrom.client does after a timeout).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "event_loop.h"
#include "generator.h"
#include "network.h"

namespace runner {

class Client {
 public:
  // reply is nullopt on timeout.
  using ReplyCallback = std::function<void(const std::optional<Message>& reply)>;

  Client(EventLoop& loop, Network& net, std::string id);

  // Sends body (msg_id is filled in) to node; calls done once.
  void rpc(const std::string& node, raftkv::maelstrom::Json body, int64_t timeout_ns,
           ReplyCallback done);
  bool busy() const { return waiting_ != 0; }
  const std::string& id() const { return id_; }

 private:
  void on_message(const Message& m);
  void finish(const std::optional<Message>& reply);

  EventLoop& loop_;
  Network& net_;
  std::string id_;
  int64_t next_msg_id_ = 1;
  int64_t waiting_ = 0;  // msg_id awaited, 0 = idle
  ReplyCallback done_;
};

// The request body Maelstrom's lin-kv client sends for op.
raftkv::maelstrom::Json request_body(const OpSpec& op);

struct Outcome {
  lin::EventType type = lin::EventType::kInfo;
  nlohmann::json value;  // for ok reads: the value read (null = absent)
  std::string error;     // why, for fail/info
};

// Maps a reply (or a timeout) to ok/fail/info as Maelstrom's lin-kv client
// does, except that "key does not exist" on a read is an ok read of null.
Outcome classify(const OpSpec& op, const std::optional<Message>& reply);

}  // namespace runner

// The Maelstrom adapter: one raftkv server on JSON lines. It parses each
// line, answers init, maps client requests (read, write, cas) and messages
// between servers (raft, fwd, fwd_ok) onto the server core's types, and
// writes the core's output back as JSON lines. Keys and values become
// canonical JSON text (json_text.h) before the core sees them.
// Single-threaded; the event loop feeds it lines and ticks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "maelstrom/message.h"
#include "server/core.h"
#include "storage/kv_store.h"
#include "storage/log_store.h"

namespace raftkv::maelstrom {

using ReadMode = server::ReadMode;

// The core's tuning (shared with serve mode) plus where the state lives.
struct NodeOptions : server::CoreOptions {
  std::string data_dir;  // state lives in data_dir/<node_id>/
  // Forwarded requests (and their replies) bound for one server in one turn
  // travel as one message of at most about this many key and value bytes; a
  // bigger request goes alone. It must stay well below the receivers'
  // --max-line-bytes (JSON escapes can make text several times longer).
  size_t forward_batch_bytes = 1 << 20;
};

class Node {
 public:
  using Clock = std::chrono::steady_clock;
  // `out` receives each outgoing message as one line (no newline); `flush`
  // pushes what `out` collected to the wire now.
  Node(
      NodeOptions options, std::function<void(std::string)> out,
      std::function<void()> flush = [] {});
  ~Node();

  void handle_line(std::string_view line);
  // A line that could not be parsed (e.g. oversized): answers error 12 when
  // its src and msg_id were recovered.
  void handle_unparseable(const ParseResult& r);
  void tick();
  // Runs the core's Ready loop until nothing is left to do. Call after a
  // batch of input so one synced write covers the whole batch.
  void drive();
  // Requests accepted but not yet answered.
  size_t pending() const;
  // Set when the node must stop (fail-stop on a storage error): the reason.
  const std::optional<std::string>& fatal() const { return fatal_; }

  // Stats for --stats-interval lines.
  std::string stats() const;

 private:
  class Wire;
  struct Client {
    std::string src;
    int64_t msg_id;
    std::string type;  // read, write, cas, or an admin request
  };

  void handle(const Message& m);
  void handle_init(const Message& m);
  void handle_client(const Message& m, int64_t msg_id);
  void handle_peer(const Message& m);
  // Membership and leadership (admin.cc).
  static bool is_admin_op(const std::string& type);
  void handle_admin(const Message& m, int64_t msg_id);
  Json members_body(int64_t msg_id);
  std::optional<std::string> check_initial_members(const std::string& id,
                                                   const std::vector<std::string>& node_ids) const;
  void send(const std::string& dest, Json body);
  void reply_error(const std::string& client, int64_t msg_id, ErrorCode code,
                   std::string_view text);
  // reply_error, sent as `addressee` when this node has no id yet.
  void reply_error_as(const std::string& addressee, const std::string& client, int64_t msg_id,
                      ErrorCode code, std::string_view text);
  void client_reply(server::RequestId id, server::ClientReply r);
  void fail_stop(const std::string& reason);
  server::Millis now() const;

  NodeOptions opts_;
  std::function<void(std::string)> out_;
  std::function<void()> flush_;
  std::string id_;
  std::vector<std::string> members_;
  int64_t next_msg_id_ = 0;
  std::optional<std::string> fatal_;
  Clock::time_point epoch_ = Clock::now();

  std::unique_ptr<Wire> wire_;
  std::unique_ptr<storage::LogStore> log_store_;
  std::unique_ptr<storage::KvStore> kv_store_;
  std::unique_ptr<server::Core> core_;
  server::RequestId next_request_ = 0;
  std::map<server::RequestId, Client> clients_;
};

}  // namespace raftkv::maelstrom

// One Redis client connection in serve mode: bytes in, replies out, in
// order.
//
// Commands that touch the store go to the server core and may finish out
// of order (a ReadIndex read can overtake a write still committing), yet a
// connection's commands must take effect in the order it sent them: SET
// then GET, pipelined, must see the SET. So a connection keeps in flight
// either reads only or writes only. Writes in flight keep their order
// (the leader appends them in arrival order: forwards travel on one TCP
// stream); reads in flight commute. A command of the other kind waits
// until everything in flight has been answered. Replies leave strictly in
// command order; commands that need no store (PING, INFO, ...) are answered
// at once but wait their turn in the output.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "resp/command.h"
#include "resp/request_parser.h"
#include "server/types.h"

namespace raftkv::serve {

// How a store reply becomes RESP: GET's bulk string or null; SET's OK or
// null (condition failed); SET ... GET's old value or null; an integer
// (DEL, EXISTS, INCR); an admin command's OK.
enum class ReplyShape : uint8_t { kBulk, kSetOk, kSetOld, kInteger, kAdmin };

// Definite failures (nothing was or will be done) start with TRYAGAIN;
// unknown outcomes with UNCERTAIN; requests that make no sense (add a
// member twice, promote a voter) with ERR.
void append_store_reply(std::string& out, const server::ClientReply& r, ReplyShape shape);

// The core request RAFT.MEMBER ADD/PROMOTE/REMOVE or RAFT.TRANSFER asks
// for (an addition carries the new member's peer address as "host:port");
// nullopt for any other command.
std::optional<server::AdminRequest> admin_request(const resp::Command& cmd);

// What a session needs from the server it lives in.
class SessionHost {
 public:
  virtual ~SessionHost() = default;
  // Hands a request to the core; its reply comes back through
  // RedisSession::on_reply(seq, ...). May reply before returning.
  virtual void submit(uint64_t client_id, uint64_t seq, server::ClientRequest request) = 0;
  // The same for a membership change or leadership transfer.
  virtual void submit_admin(uint64_t client_id, uint64_t seq, server::AdminRequest request) = 0;
  // INFO's sections, filled with the server's current numbers.
  virtual void append_info(std::string& out, const resp::Info& info) = 0;
  virtual bool is_leader() const = 0;
  // RAFT.MEMBERS: "id host:port voter|learner [leader] [lag N]" lines.
  virtual std::vector<std::string> members() const = 0;
};

class RedisSession {
 public:
  RedisSession(uint64_t client_id, SessionHost& host, resp::ParseLimits limits);

  void feed(std::string_view bytes);
  void on_reply(uint64_t seq, server::ClientReply reply);

  // The replies now ready, in command order.
  std::string take_output();
  // After QUIT or a protocol error: close once the output is written.
  bool closing() const { return closing_; }
  // The client shut down its writing side: it sends nothing more but is
  // owed the answers to what it sent (as Redis does), then the connection
  // closes.
  void end_of_input() {
    stopped_ = true;
    input_ended_ = true;
  }
  bool finished() const { return closing_ || (input_ended_ && slots_.empty()); }
  // Commands read but not yet answered (for read backpressure).
  size_t unanswered() const { return slots_.size(); }
  uint64_t id() const { return id_; }

 private:
  struct Slot {
    bool done = false;
    bool close_after = false;
    ReplyShape shape = ReplyShape::kBulk;
    std::string bytes;
  };
  using Request = std::variant<server::ClientRequest, server::AdminRequest>;
  struct Waiting {
    uint64_t seq;
    Request request;
    bool read;
  };

  void handle(std::vector<std::string> args);
  void local(Slot& slot, const resp::Command& cmd);
  void to_store(ReplyShape shape, server::ClientRequest request);
  void to_admin(server::AdminRequest request);
  void enqueue(ReplyShape shape, Request request, bool read);
  void pump();
  Slot& slot(uint64_t seq) { return slots_[seq - first_seq_]; }

  uint64_t id_;
  SessionHost& host_;
  resp::RequestParser parser_;
  std::string name_;        // CLIENT SETNAME
  std::deque<Slot> slots_;  // unanswered commands, oldest first
  uint64_t first_seq_ = 0;  // seq of slots_.front()
  uint64_t next_seq_ = 0;
  std::deque<Waiting> waiting_;  // store commands not yet handed to the core
  size_t in_flight_ = 0;
  bool in_flight_reads_ = false;  // the kind in flight, when in_flight_ > 0
  bool pumping_ = false;
  bool stopped_ = false;  // QUIT or a protocol error: read nothing more
  bool closing_ = false;
  bool input_ended_ = false;
};

}  // namespace raftkv::serve

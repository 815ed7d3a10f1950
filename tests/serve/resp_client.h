// A blocking Redis (RESP2) client for end-to-end tests: one TCP connection
// to 127.0.0.1, every wait bounded by a timeout so a hung server fails the
// test instead of hanging it. Commands are encoded with
// resp::append_bulk_array and replies decoded with resp::ReplyParser, the
// same code a real client of ours would use.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resp/reply.h"
#include "resp/reply_parser.h"

namespace raftkv::test {

using Millis = std::chrono::milliseconds;

class RespClient {
 public:
  // Connects; throws std::runtime_error when the server does not accept.
  explicit RespClient(uint16_t port, Millis timeout = Millis(5000));
  ~RespClient();
  RespClient(RespClient&& other) noexcept;
  RespClient& operator=(RespClient&&) = delete;
  RespClient(const RespClient&) = delete;

  // Sends one command and waits for its reply; throws std::runtime_error on
  // timeout, a closed connection or a malformed reply.
  resp::Reply call(std::initializer_list<std::string_view> args);
  resp::Reply call(const std::vector<std::string>& args);

  // Raw bytes, e.g. a pipelined batch or garbage; throws when the
  // connection is gone.
  void send_raw(std::string_view bytes);
  // The next reply, or nullopt on timeout, end of stream or a malformed
  // reply (see error()).
  std::optional<resp::Reply> read_reply();
  // n replies; throws if fewer arrive within the timeout.
  std::vector<resp::Reply> read_replies(size_t n);
  // Reads and discards until the server closes the connection; false if it
  // is still open after `timeout`.
  bool wait_closed(Millis timeout);

  const std::string& error() const { return error_; }
  void set_timeout(Millis t) { timeout_ = t; }
  int fd() const { return fd_; }

 private:
  // Reads what is there within the deadline; false on EOF/error/timeout.
  bool receive(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  Millis timeout_;
  resp::ReplyParser parser_;
  std::string error_;
};

// Opens a connection without any protocol: for idle-connection tests.
// Returns the fd (close it yourself) or -1.
int connect_tcp(uint16_t port);

// "OK", "(nil)", "(integer) 3", "\"v\"", "(error) ERR ...".
std::string show(const resp::Reply& r);

}  // namespace raftkv::test

// Server side: splits the byte stream of one client connection into
// commands, incrementally and over any split of the stream. Accepts what
// clients send: RESP arrays of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
// and inline commands ("GET k\r\n", as telnet sends), any number per feed
// (pipelining).
//
//   resp::RequestParser p(limits);
//   p.feed(bytes_from_socket);
//   while (auto args = p.next()) execute(*args);     // args never empty
//   if (p.failed()) { resp::append_error(out, p.error()); flush, then close; }
//
// Memory follows the bytes received, not the lengths announced: a header
// claiming a 500 MB bulk string allocates nothing until the data arrives.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resp/input_buffer.h"
#include "resp/limits.h"

namespace raftkv::resp {

class RequestParser {
 public:
  explicit RequestParser(ParseLimits limits = {}) : limits_(limits) {}

  // Ignored after a protocol error.
  void feed(std::string_view bytes);
  // The next complete command's arguments; nullopt when more bytes are
  // needed or after a protocol error. Commands before the error come out
  // first (Redis runs them, then replies the error and closes).
  std::optional<std::vector<std::string>> next();

  // After a protocol error the connection must be closed.
  bool failed() const { return !error_.empty(); }
  // The error reply text, Redis's wording: "ERR Protocol error: invalid bulk length".
  const std::string& error() const { return error_; }
  // Memory held for incomplete commands (buffer and partial arguments);
  // constant time, so a server may check it after every read. Each argument
  // costs its bytes plus a std::string (32 bytes): an array of many empty
  // strings holds ~5x its wire size.
  size_t buffered_bytes() const;

 private:
  enum class State { kCommandStart, kBulkHeader, kBulkData };
  enum class Step { kCommand, kContinue, kNeedMore, kFailed };

  Step parse_inline();
  Step parse_multibulk_header();
  Step parse_bulk_header();
  Step parse_bulk_data();
  // The digits of a "*<n>" / "$<n>" line, consumed; nullopt with `step`
  // set when the line is incomplete or too long. A line without its CR
  // yields "" (an invalid number).
  std::optional<std::string> read_count_line(const char* too_big, Step& step);
  Step fail(std::string message);

  ParseLimits limits_;
  InputBuffer in_;
  State state_ = State::kCommandStart;
  size_t args_remaining_ = 0;
  size_t bulk_len_ = 0;
  std::vector<std::string> args_;
  size_t finished_args_bytes_ = 0;  // capacity of args_ before the one being read
  std::string error_;
};

}  // namespace raftkv::resp

// Client side: turns the bytes a RESP2 server sends into Reply values,
// incrementally. Feed bytes as they arrive, however split; take every
// complete reply with next().
//
//   resp::ReplyParser p;
//   p.feed(bytes_from_socket);
//   while (auto r = p.next()) handle(*r);
//   if (p.failed()) close_connection(p.error());
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "resp/input_buffer.h"
#include "resp/limits.h"
#include "resp/reply.h"

namespace raftkv::resp {

class ReplyParser {
 public:
  explicit ReplyParser(ParseLimits limits = {}) : limits_(limits) {}

  // Ignored after a protocol error.
  void feed(std::string_view bytes);
  // The next complete reply; nullopt when more bytes are needed or after a
  // protocol error (replies before the error come out first).
  std::optional<Reply> next();

  bool failed() const { return !error_.empty(); }
  // Why parsing stopped, e.g. "protocol error: invalid bulk length".
  const std::string& error() const { return error_; }
  // Bytes held for incomplete replies (buffer and partial values).
  size_t buffered_bytes() const;

 private:
  struct Frame {
    Reply array;
    size_t remaining = 0;
  };
  enum class Step { kValue, kContinue, kNeedMore, kFailed };

  Step parse_line(Reply& out);
  Step parse_bulk_data(Reply& out);
  Step start_array(int64_t n, Reply& out);
  // Places a finished value into the enclosing array, closing arrays that
  // become full; true when a top-level reply is complete (moved to out).
  bool complete(Reply value, Reply& out);
  Step fail(std::string message);

  ParseLimits limits_;
  InputBuffer in_;
  std::vector<Frame> stack_;
  bool in_bulk_ = false;
  size_t bulk_len_ = 0;
  std::string bulk_;
  std::string error_;
};

}  // namespace raftkv::resp

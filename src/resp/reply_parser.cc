#include "resp/reply_parser.h"

#include <algorithm>

#include "resp/number.h"

namespace raftkv::resp {

void ReplyParser::feed(std::string_view bytes) {
  if (!failed()) in_.append(bytes);
}

std::optional<Reply> ReplyParser::next() {
  if (failed()) return std::nullopt;
  Reply out;
  for (;;) {
    Step s = in_bulk_ ? parse_bulk_data(out) : parse_line(out);
    if (s == Step::kValue) return out;
    if (s != Step::kContinue) return std::nullopt;
  }
}

size_t ReplyParser::buffered_bytes() const {
  return in_.capacity() + bulk_.capacity();
}

ReplyParser::Step ReplyParser::parse_line(Reply& out) {
  size_t nl = in_.find_newline();
  // A line is its type byte, at most max_inline_len bytes, then CRLF.
  size_t max_line = limits_.max_inline_len + 2;
  if (nl == std::string_view::npos) {
    return in_.size() > max_line ? fail("protocol error: line too long") : Step::kNeedMore;
  }
  if (nl > max_line) return fail("protocol error: line too long");
  std::string_view pending = in_.pending();
  if (nl < 2 || pending[nl - 1] != '\r') return fail("protocol error: line not ended by CRLF");
  char type = pending[0];
  std::string body(pending.substr(1, nl - 2));
  in_.consume(nl + 1);
  switch (type) {
    case '+':
      return complete(Reply::simple(std::move(body)), out) ? Step::kValue : Step::kContinue;
    case '-':
      return complete(Reply::error(std::move(body)), out) ? Step::kValue : Step::kContinue;
    case ':': {
      auto v = parse_int64_strict(body);
      if (!v) return fail("protocol error: invalid integer");
      return complete(Reply::integer_of(*v), out) ? Step::kValue : Step::kContinue;
    }
    case '$': {
      auto n = parse_int64_strict(body);
      if (!n || *n < -1) return fail("protocol error: invalid bulk length");
      if (*n == -1) return complete(Reply::null(), out) ? Step::kValue : Step::kContinue;
      if (static_cast<uint64_t>(*n) > limits_.max_bulk_len) {
        return fail("protocol error: bulk length over the limit");
      }
      in_bulk_ = true;
      bulk_len_ = static_cast<size_t>(*n);
      return Step::kContinue;
    }
    case '*': {
      auto n = parse_int64_strict(body);
      if (!n || *n < -1) return fail("protocol error: invalid multibulk length");
      return start_array(*n, out);
    }
    default:
      return fail(std::string("protocol error: unexpected reply type byte '") + type + "'");
  }
}

ReplyParser::Step ReplyParser::start_array(int64_t n, Reply& out) {
  if (n == -1) return complete(Reply::null(), out) ? Step::kValue : Step::kContinue;
  if (n == 0) return complete(Reply::array({}), out) ? Step::kValue : Step::kContinue;
  if (static_cast<uint64_t>(n) > limits_.max_array_len) {
    return fail("protocol error: array length over the limit");
  }
  if (stack_.size() >= limits_.max_depth) return fail("protocol error: arrays nested too deep");
  // No reserve(n): the count is only a claim until the elements arrive.
  stack_.push_back(Frame{Reply::array({}), static_cast<size_t>(n)});
  return Step::kContinue;
}

ReplyParser::Step ReplyParser::parse_bulk_data(Reply& out) {
  // Move what has arrived into the value now, so the input buffer stays
  // small and memory grows only with the bytes received.
  size_t take = std::min(bulk_len_ - bulk_.size(), in_.size());
  bulk_.append(in_.pending().substr(0, take));
  in_.consume(take);
  if (bulk_.size() < bulk_len_ || in_.size() < 2) return Step::kNeedMore;
  if (in_.pending().substr(0, 2) != "\r\n") {
    return fail("protocol error: bulk string not followed by CRLF");
  }
  in_.consume(2);
  in_bulk_ = false;
  Reply value = Reply::bulk(std::move(bulk_));
  bulk_ = std::string();
  return complete(std::move(value), out) ? Step::kValue : Step::kContinue;
}

bool ReplyParser::complete(Reply value, Reply& out) {
  for (;;) {
    if (stack_.empty()) {
      out = std::move(value);
      return true;
    }
    Frame& top = stack_.back();
    top.array.elements.push_back(std::move(value));
    if (--top.remaining > 0) return false;
    value = std::move(top.array);
    stack_.pop_back();
  }
}

ReplyParser::Step ReplyParser::fail(std::string message) {
  error_ = std::move(message);
  in_ = InputBuffer();
  stack_.clear();
  bulk_ = std::string();
  return Step::kFailed;
}

}  // namespace raftkv::resp

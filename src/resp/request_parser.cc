#include "resp/request_parser.h"

#include <algorithm>

#include "resp/inline_args.h"
#include "resp/number.h"

namespace raftkv::resp {

void RequestParser::feed(std::string_view bytes) {
  if (!failed()) in_.append(bytes);
}

std::optional<std::vector<std::string>> RequestParser::next() {
  while (!failed()) {
    Step step = Step::kNeedMore;
    switch (state_) {
      case State::kCommandStart:
        if (in_.empty()) return std::nullopt;
        step = in_.front() == '*' ? parse_multibulk_header() : parse_inline();
        break;
      case State::kBulkHeader:
        step = parse_bulk_header();
        break;
      case State::kBulkData:
        step = parse_bulk_data();
        break;
    }
    if (step == Step::kCommand) {
      std::vector<std::string> args = std::move(args_);
      args_ = {};
      finished_args_bytes_ = 0;
      return args;
    }
    if (step != Step::kContinue) return std::nullopt;
  }
  return std::nullopt;
}

size_t RequestParser::buffered_bytes() const {
  size_t n = in_.capacity() + args_.capacity() * sizeof(std::string) + finished_args_bytes_;
  if (state_ == State::kBulkData) n += args_.back().capacity();
  return n;
}

RequestParser::Step RequestParser::parse_inline() {
  size_t nl = in_.find_newline();
  if (nl == std::string_view::npos) {
    return in_.size() > limits_.max_inline_len ? fail("ERR Protocol error: too big inline request")
                                               : Step::kNeedMore;
  }
  // Checked on complete lines too, so the verdict does not depend on how
  // the stream was split.
  if (nl > limits_.max_inline_len) return fail("ERR Protocol error: too big inline request");
  std::string_view line = in_.pending().substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto args = split_inline_args(line);
  if (!args) return fail("ERR Protocol error: unbalanced quotes in request");
  in_.consume(nl + 1);
  if (args->empty()) return Step::kContinue;  // blank line: Redis ignores it
  args_ = std::move(*args);
  return Step::kCommand;
}

std::optional<std::string> RequestParser::read_count_line(const char* too_big, Step& step) {
  size_t nl = in_.find_newline();
  if (nl == std::string_view::npos) {
    step = in_.size() > limits_.max_inline_len ? fail(too_big) : Step::kNeedMore;
    return std::nullopt;
  }
  if (nl > limits_.max_inline_len) {
    step = fail(too_big);
    return std::nullopt;
  }
  std::string_view line = in_.pending().substr(1, nl - 1);  // after '*' or '$'
  std::string digits;
  if (!line.empty() && line.back() == '\r') digits = line.substr(0, line.size() - 1);
  in_.consume(nl + 1);
  return digits;
}

RequestParser::Step RequestParser::parse_multibulk_header() {
  Step step;
  auto digits = read_count_line("ERR Protocol error: too big mbulk count string", step);
  if (!digits) return step;
  auto n = parse_int64_strict(*digits);
  if (!n || (*n > 0 && static_cast<uint64_t>(*n) > limits_.max_array_len)) {
    return fail("ERR Protocol error: invalid multibulk length");
  }
  if (*n <= 0) return Step::kContinue;  // "*0" / "*-1": an empty command, skipped as Redis does
  // No reserve(n): the count is only a claim until the arguments arrive.
  args_.clear();
  finished_args_bytes_ = 0;
  args_remaining_ = static_cast<size_t>(*n);
  state_ = State::kBulkHeader;
  return Step::kContinue;
}

RequestParser::Step RequestParser::parse_bulk_header() {
  if (in_.empty()) return Step::kNeedMore;
  if (in_.front() != '$') {
    return fail(std::string("ERR Protocol error: expected '$', got '") + in_.front() + "'");
  }
  Step step;
  auto digits = read_count_line("ERR Protocol error: too big bulk count string", step);
  if (!digits) return step;
  auto n = parse_int64_strict(*digits);
  if (!n || *n < 0 || static_cast<uint64_t>(*n) > limits_.max_bulk_len) {
    return fail("ERR Protocol error: invalid bulk length");
  }
  args_.emplace_back();
  bulk_len_ = static_cast<size_t>(*n);
  state_ = State::kBulkData;
  return Step::kContinue;
}

RequestParser::Step RequestParser::parse_bulk_data() {
  // Move what has arrived into the argument now: the input buffer stays
  // small and the argument grows only with the bytes received.
  std::string& arg = args_.back();
  size_t take = std::min(bulk_len_ - arg.size(), in_.size());
  arg.append(in_.pending().substr(0, take));
  in_.consume(take);
  if (arg.size() < bulk_len_ || in_.size() < 2) return Step::kNeedMore;
  // Redis skips these two bytes unchecked; checking them catches a client
  // whose lengths are off before it desynchronises the stream.
  if (in_.pending().substr(0, 2) != "\r\n") {
    return fail("ERR Protocol error: bulk string not followed by CRLF");
  }
  in_.consume(2);
  finished_args_bytes_ += arg.capacity();
  if (--args_remaining_ > 0) {
    state_ = State::kBulkHeader;
    return Step::kContinue;
  }
  state_ = State::kCommandStart;
  return Step::kCommand;
}

RequestParser::Step RequestParser::fail(std::string message) {
  error_ = std::move(message);
  in_ = InputBuffer();
  args_ = {};
  finished_args_bytes_ = 0;
  state_ = State::kCommandStart;
  return Step::kFailed;
}

}  // namespace raftkv::resp

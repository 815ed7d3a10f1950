// libFuzzer target: the RESP request parser and command parsing. Any bytes
// as one client's stream:
//  - parsing never crashes, and a failure always has Redis-style text;
//  - the commands and the verdict do not depend on how the stream is split
//    (whole, in three pieces, one byte at a time);
//  - no command is empty, and each re-encoded as an array of bulk strings
//    parses back to itself;
//  - memory held stays proportional to the bytes fed;
//  - parse_command accepts or refuses every command with a reason.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "resp/command.h"
#include "resp/encode.h"
#include "resp/request_parser.h"

using namespace raftkv::resp;

namespace {

using Commands = std::vector<std::vector<std::string>>;

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s\n  input=%.*s\n", what,
               static_cast<int>(std::min<size_t>(input.size(), 2000)), input.data());
  std::abort();
}

// Small limits, so the fuzzer reaches every limit check.
ParseLimits small_limits() {
  ParseLimits l;
  l.max_bulk_len = 300;
  l.max_array_len = 20;
  l.max_inline_len = 120;
  return l;
}

struct Outcome {
  Commands commands;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome parse_pieces(std::string_view input, const std::vector<size_t>& cuts,
                     const ParseLimits& limits) {
  RequestParser p(limits);
  Outcome out;
  size_t at = 0;
  auto feed_to = [&](size_t end) {
    p.feed(input.substr(at, end - at));
    at = end;
    while (auto a = p.next()) out.commands.push_back(std::move(*a));
    if (p.buffered_bytes() > 4 * at + 4096) fail("memory out of proportion to input", input);
  };
  for (size_t c : cuts) feed_to(std::max(at, std::min(c, input.size())));
  feed_to(input.size());
  out.error = p.error();
  if (p.failed() && out.error.rfind("ERR Protocol error: ", 0) != 0) {
    fail("protocol error without Redis's prefix", input);
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  ParseLimits limits = small_limits();

  Outcome whole = parse_pieces(input, {}, limits);
  size_t a = size > 0 ? data[0] % (size + 1) : 0;
  size_t b = size > 1 ? a + data[1] % (size + 1 - a) : a;
  if (parse_pieces(input, {a, b}, limits) != whole) fail("result depends on the split", input);
  if (size <= 2048) {
    std::vector<size_t> every(size);
    for (size_t i = 0; i < size; ++i) every[i] = i + 1;
    if (parse_pieces(input, every, limits) != whole) fail("byte-at-a-time differs", input);
  }

  for (const auto& args : whole.commands) {
    if (args.empty()) fail("empty command", input);
    std::string encoded;
    append_bulk_array(encoded, args);
    RequestParser again;
    again.feed(encoded);
    auto back = again.next();
    if (!back || *back != args) fail("re-encoded command does not parse back", input);
    ParsedCommand pc = parse_command(args);
    if (!pc.ok() && pc.error.empty()) fail("command refused without a reason", input);
  }

  // Default limits: same verdict as the small ones wherever those did not bite.
  Outcome roomy = parse_pieces(input, {a}, ParseLimits{});
  if (whole.error.empty() && roomy != whole) fail("limits changed a valid stream", input);
  return 0;
}

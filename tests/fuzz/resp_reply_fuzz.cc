// libFuzzer target: the RESP reply parser (our clients' side). Any bytes as
// one server's stream:
//  - parsing never crashes and a failure always says why;
//  - replies and verdict do not depend on how the stream is split;
//  - every reply re-encodes to bytes that parse back to the same reply
//    (a bare CR inside a simple string or error is legal on the wire but
//    the encoder turns it into a space, so compare with that);
//  - memory held stays proportional to the bytes fed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "resp/encode.h"
#include "resp/reply_parser.h"

using namespace raftkv::resp;

namespace {

[[noreturn]] void fail(const char* what, std::string_view input) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s\n  input=%.*s\n", what,
               static_cast<int>(std::min<size_t>(input.size(), 2000)), input.data());
  std::abort();
}

ParseLimits small_limits() {
  ParseLimits l;
  l.max_bulk_len = 300;
  l.max_array_len = 20;
  l.max_inline_len = 120;
  l.max_depth = 8;
  return l;
}

// What the encoder makes of a reply: CR/LF in line text become spaces.
Reply as_encoded(Reply r) {
  if (r.type == Reply::Type::kSimple || r.type == Reply::Type::kError) {
    for (char& c : r.str) {
      if (c == '\r' || c == '\n') c = ' ';
    }
  }
  for (Reply& e : r.elements) e = as_encoded(std::move(e));
  return r;
}

struct Outcome {
  std::vector<Reply> replies;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

Outcome parse_pieces(std::string_view input, const std::vector<size_t>& cuts) {
  ReplyParser p(small_limits());
  Outcome out;
  size_t at = 0;
  auto feed_to = [&](size_t end) {
    p.feed(input.substr(at, end - at));
    at = end;
    while (auto r = p.next()) out.replies.push_back(std::move(*r));
    if (p.buffered_bytes() > 4 * at + 4096) fail("memory out of proportion to input", input);
  };
  for (size_t c : cuts) feed_to(std::max(at, std::min(c, input.size())));
  feed_to(input.size());
  out.error = p.error();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Outcome whole = parse_pieces(input, {});
  size_t a = size > 0 ? data[0] % (size + 1) : 0;
  size_t b = size > 1 ? a + data[1] % (size + 1 - a) : a;
  if (parse_pieces(input, {a, b}) != whole) fail("result depends on the split", input);
  if (size <= 2048) {
    std::vector<size_t> every(size);
    for (size_t i = 0; i < size; ++i) every[i] = i + 1;
    if (parse_pieces(input, every) != whole) fail("byte-at-a-time differs", input);
  }
  for (const Reply& r : whole.replies) {
    std::string encoded;
    append_reply(encoded, r);
    ReplyParser again(small_limits());
    again.feed(encoded);
    auto back = again.next();
    if (!back || *back != as_encoded(r)) fail("re-encoded reply does not parse back", input);
  }
  return 0;
}

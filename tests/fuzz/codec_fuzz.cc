// libFuzzer target: the Maelstrom wire codec. Any bytes as one line:
//  - parse never throws or crashes, and a failure always says why;
//  - a parsed message serialises to a line that parses to the same bytes
//    again (serialize . parse is idempotent) and the same canonical body;
//  - canonical text is a fixed point: parse_value(canonical_text(v)) has
//    the same canonical text, and insertion-order output reparses to it;
//  - strings are escaped byte for byte as nlohmann::json escapes them;
//  - the streaming IdScanner finds the same ids however the line is split.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "maelstrom/json_text.h"
#include "maelstrom/message.h"

using namespace raftkv::maelstrom;

namespace {

[[noreturn]] void fail(const char* what, std::string_view a, std::string_view b = {}) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s\n  a=%.*s\n  b=%.*s\n", what,
               static_cast<int>(std::min<size_t>(a.size(), 2000)), a.data(),
               static_cast<int>(std::min<size_t>(b.size(), 2000)), b.data());
  std::abort();
}

void check_value(const Json& v) {
  std::string canon = canonical_text(v);
  auto back = parse_value(canon);
  if (!back) fail("canonical text does not parse", canon);
  std::string again = canonical_text(*back);
  if (again != canon) fail("canonical text is not a fixed point", canon, again);
  std::string ordered;
  write_json(ordered, v);
  auto back2 = parse_value(ordered);
  if (!back2 || canonical_text(*back2) != canon)
    fail("insertion-order text differs", ordered, canon);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);

  JsonParse p = parse_json(line);
  if (!p.value && p.error.empty()) fail("parse_json failed without a reason", line);
  if (p.value) {
    if (p.depth > kMaxJsonDepth) fail("depth over the limit", line);
    check_value(*p.value);
  }

  ParseResult r = parse(line);
  if (r.message) {
    std::string s = serialize(*r.message);
    ParseResult r2 = parse(s);
    if (!r2.message) fail("serialized message does not parse", s, r2.error);
    std::string s2 = serialize(*r2.message);
    if (s2 != s) fail("serialize(parse(serialize(m))) differs", s, s2);
    if (canonical_text(r2.message->body) != canonical_text(r.message->body)) {
      fail("body changed across a round trip", s, s2);
    }
    if (r2.message->msg_id() != r.message->msg_id()) fail("msg_id changed", s, s2);
  } else if (r.error.empty()) {
    fail("parse failed without a reason", line);
  }

  // Our string escaping must be byte-identical to nlohmann's (output bytes
  // are part of the protocol), including its U+FFFD for invalid UTF-8.
  {
    Json sj{std::string(line)};
    std::string mine;
    write_json(mine, sj);
    std::string theirs = sj.dump(-1, ' ', false, Json::error_handler_t::replace);
    if (mine != theirs) fail("string escaping differs from nlohmann", mine, theirs);
  }

  // Split anywhere: the streaming scanner must agree with itself.
  if (size > 0) {
    size_t cut = data[0] % size;
    IdScanner whole, split;
    whole.feed(line);
    split.feed(line.substr(0, cut));
    split.feed(line.substr(cut));
    ParseResult a, b;
    whole.fill(a);
    split.fill(b);
    if (a.msg_id != b.msg_id || a.src != b.src || a.dest != b.dest) {
      fail("IdScanner depends on chunking", line);
    }
  }
  return 0;
}

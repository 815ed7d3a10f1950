// libFuzzer target: the Raft message decoder. The input is a JSON body (as a
// "raft" message from n2 to n1):
//  - decode_raft never throws or crashes, and a failure always says why;
//  - a decoded message encodes, serialises, parses and decodes to itself;
//  - the Raft core's field-sanity check (Raft::refusal) runs on it.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "maelstrom/json_text.h"
#include "maelstrom/raft_codec.h"
#include "raft/raft.h"

using namespace raftkv::maelstrom;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  JsonParse p = parse_json(text);
  if (!p.value) return 0;
  std::string error;
  auto m = decode_raft(Message{"n2", "n1", *p.value}, &error);
  if (!m) {
    if (error.empty()) std::abort();
    return 0;
  }
  (void)raftkv::raft::Raft::refusal(*m);

  Json body = make_body("raft", std::nullopt, 1);
  encode_raft(*m, body);
  std::string line = serialize(Message{m->from, m->to, body});
  ParseResult r = parse(line);
  if (!r.message) {
    std::fprintf(stderr, "encoded raft message does not parse: %s\n", r.error.c_str());
    std::abort();
  }
  std::string error2;
  auto m2 = decode_raft(*r.message, &error2);
  if (!m2 || !(*m2 == *m)) {
    std::fprintf(stderr, "raft round trip differs (%s): %s\n", error2.c_str(), line.c_str());
    std::abort();
  }
  return 0;
}

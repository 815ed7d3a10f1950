// libFuzzer target: the binary peer codec (src/wire). The input is one frame
// payload, or (first byte odd) a hello payload:
//  - decode / decode_hello never crash, and a failure always says why;
//  - the encoding is canonical: whatever decodes encodes back to the same bytes;
//  - the stream splitter agrees with append_frame on the re-encoded message.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "wire/peer_codec.h"

using namespace raftkv::wire;

namespace {
void check_hello(std::string_view payload) {
  std::string error;
  auto h = decode_hello(payload, &error);
  if (!h) {
    if (error.empty()) std::abort();
    return;
  }
  if (encode_hello(*h) != payload) {
    std::fprintf(stderr, "hello does not re-encode to its input\n");
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  if (!payload.empty() && payload.front() == 'R') check_hello(payload);
  std::string error;
  auto m = decode(payload, &error);
  if (!m) {
    if (error.empty()) std::abort();
    return 0;
  }
  if (encode(*m) != payload) {
    std::fprintf(stderr, "message does not re-encode to its input\n");
    std::abort();
  }
  std::string stream;
  size_t n = append_frame(*m, stream);
  std::string_view got;
  size_t used = 0;
  if (n != size || next_frame(stream, size, &got, &used) != FrameStatus::kFrame || got != payload ||
      used != stream.size()) {
    std::fprintf(stderr, "frame split disagrees with append_frame\n");
    std::abort();
  }
  return 0;
}

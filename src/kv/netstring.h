// Netstring-style fields ("<len>:<bytes>"), the framing of log commands and
// snapshot chunks. They keep an encoding valid UTF-8 when its contents are
// (keys and values are JSON text in the Maelstrom mode), so it can travel
// inside JSON messages without base64, and still parse without a JSON
// parser.
#pragma once

#include <charconv>
#include <string>
#include <string_view>

namespace raftkv::kv {

inline void put_field(std::string& out, std::string_view s) {
  out.append(std::to_string(s.size()));
  out.push_back(':');
  out.append(s);
}

// Reads the field at *pos into *out and moves *pos past it; false when the
// bytes there are not a whole field.
inline bool get_field(std::string_view in, size_t* pos, std::string* out) {
  size_t colon = in.find(':', *pos);
  if (colon == std::string_view::npos || colon == *pos) return false;
  // One spelling per length ("0", "5", never "05"): an encoding that decodes
  // must re-encode to the same bytes.
  if (colon - *pos > 1 && in[*pos] == '0') return false;
  size_t n = 0;
  auto [p, ec] = std::from_chars(in.data() + *pos, in.data() + colon, n);
  if (ec != std::errc() || p != in.data() + colon) return false;
  if (in.size() - colon - 1 < n) return false;
  out->assign(in.substr(colon + 1, n));
  *pos = colon + 1 + n;
  return true;
}

}  // namespace raftkv::kv

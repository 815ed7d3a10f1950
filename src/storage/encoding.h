// Fixed-width big-endian integers: keys sort by index in RocksDB's bytewise
// order, and values have one portable layout.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace raftkv::storage {

inline void put_u64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
}
inline void put_u32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (i * 8)) & 0xFF));
}
inline uint64_t get_u64(std::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
inline uint32_t get_u32(std::string_view in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}
inline std::string u64_key(uint64_t v) {
  std::string s;
  put_u64(s, v);
  return s;
}
// Length-prefixed string.
inline void put_str(std::string& out, std::string_view s) {
  put_u32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}
// Reads a length-prefixed string at *pos; false if truncated.
inline bool get_str(std::string_view in, size_t* pos, std::string_view* s) {
  if (in.size() < *pos + 4) return false;
  uint32_t n = get_u32(in.substr(*pos));
  if (in.size() < *pos + 4 + n) return false;
  *s = in.substr(*pos + 4, n);
  *pos += 4 + n;
  return true;
}

}  // namespace raftkv::storage

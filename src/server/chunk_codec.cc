#include "server/chunk_codec.h"

#include <charconv>

namespace raftkv::server {
namespace {

void put_field(std::string& out, std::string_view s) {
  out.append(std::to_string(s.size()));
  out.push_back(':');
  out.append(s);
}

bool get_field(std::string_view in, size_t* pos, std::string* out) {
  size_t colon = in.find(':', *pos);
  if (colon == std::string_view::npos || colon == *pos) return false;
  size_t n = 0;
  auto [p, ec] = std::from_chars(in.data() + *pos, in.data() + colon, n);
  if (ec != std::errc() || p != in.data() + colon) return false;
  if (in.size() - colon - 1 < n) return false;
  out->assign(in.substr(colon + 1, n));
  *pos = colon + 1 + n;
  return true;
}

}  // namespace

std::string encode_pairs(const storage::KvPairs& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) {
    put_field(out, k);
    put_field(out, v);
  }
  return out;
}

std::optional<storage::KvPairs> decode_pairs(std::string_view data) {
  storage::KvPairs out;
  size_t pos = 0;
  while (pos < data.size()) {
    std::string k, v;
    if (!get_field(data, &pos, &k) || !get_field(data, &pos, &v)) return std::nullopt;
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

}  // namespace raftkv::server

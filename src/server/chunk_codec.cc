#include "server/chunk_codec.h"

#include "kv/netstring.h"

namespace raftkv::server {
using kv::get_field;
using kv::put_field;

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

#include "maelstrom/snapshot_transfer.h"

namespace raftkv::maelstrom {

void SnapshotSender::fill_next_chunk(uint64_t leader_term, Json& body) {
  KvPairs pairs = reader_->next_chunk(chunk_bytes_);
  Json kv = Json::array();
  for (auto& [k, v] : pairs) kv.push_back(Json::array({std::move(k), std::move(v)}));
  last_sent_ = reader_->done();
  body["term"] = leader_term;
  body["seq"] = seq_++;
  body["index"] = reader_->index();
  body["lt"] = reader_->term();
  body["last"] = last_sent_;
  body["kv"] = std::move(kv);
}

std::optional<KvPairs> parse_chunk(const Json& kv) {
  if (!kv.is_array()) return std::nullopt;
  KvPairs out;
  out.reserve(kv.size());
  for (const Json& p : kv) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_string() || !p[1].is_string()) {
      return std::nullopt;
    }
    out.emplace_back(p[0].get<std::string>(), p[1].get<std::string>());
  }
  return out;
}

}  // namespace raftkv::maelstrom

// Snapshot chunks travel as raft kSnapshotChunk messages whose data is a
// list of (key, value) pairs, encoded here as netstring fields
// (kv/netstring.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "storage/kv_storage.h"

namespace raftkv::server {

std::string encode_pairs(const storage::KvPairs& pairs);
// nullopt when `data` is not a well-formed list of pairs.
std::optional<storage::KvPairs> decode_pairs(std::string_view data);

}  // namespace raftkv::server

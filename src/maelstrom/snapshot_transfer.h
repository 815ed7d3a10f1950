// InstallSnapshot over the Maelstrom channel. The KV store is the snapshot:
// the leader streams a consistent RocksDB snapshot of it to a follower that
// needs entries the leader has compacted away, in bounded chunks with one
// chunk in flight; the follower collects the chunks and installs them in
// one atomic write when the last arrives.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "maelstrom/message.h"
#include "storage/kv_store.h"

namespace raftkv::maelstrom {

using Clock = std::chrono::steady_clock;
using KvPairs = std::vector<std::pair<std::string, std::string>>;

// Leader side: one outgoing transfer per follower.
class SnapshotSender {
 public:
  SnapshotSender(std::unique_ptr<storage::KvStore::SnapshotReader> reader, size_t chunk_bytes)
      : reader_(std::move(reader)), chunk_bytes_(chunk_bytes) {}
  uint64_t index() const { return reader_->index(); }
  uint64_t term() const { return reader_->term(); }
  // The next "snap" body payload (after type/msg_id): fields seq, index, lt,
  // last, kv. Call once per ack.
  void fill_next_chunk(uint64_t leader_term, Json& body);
  bool awaiting(uint64_t seq) const { return seq == seq_ - 1; }
  bool finished() const { return last_sent_; }
  Clock::time_point deadline;

 private:
  std::unique_ptr<storage::KvStore::SnapshotReader> reader_;
  size_t chunk_bytes_;
  uint64_t seq_ = 0;
  bool last_sent_ = false;
};

// Follower side: the chunks collected so far from one leader.
struct SnapshotReceiver {
  uint64_t term = 0;
  uint64_t index = 0;
  uint64_t log_term = 0;
  uint64_t next_seq = 0;
  KvPairs pairs;
};

// Parses a "snap" body's kv array; nullopt when malformed.
std::optional<KvPairs> parse_chunk(const Json& kv);

}  // namespace raftkv::maelstrom

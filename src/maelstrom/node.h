// A raftkv server speaking Maelstrom: handles init, client requests (read,
// write, cas), forwarding between servers, and drives Raft's Ready loop
// through storage and the state machine. Single-threaded; the event loop
// feeds it lines and ticks and takes its output.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "kv/state_machine.h"
#include "maelstrom/message.h"
#include "maelstrom/snapshot_transfer.h"
#include "raft/raft.h"
#include "storage/kv_store.h"
#include "storage/log_store.h"

namespace raftkv::maelstrom {

enum class ReadMode { kIndex, kLog };

struct NodeOptions {
  std::string data_dir;  // state lives in data_dir/<node_id>/
  int tick_ms = 10;
  int heartbeat_ms = 50;
  int election_timeout_ms = 500;
  ReadMode read_mode = ReadMode::kIndex;
  int forward_timeout_ms =
      5000;  // a forwarded request with no answer by then gets an indefinite error
  uint64_t seed = 0;
  size_t max_append_bytes = 1 << 20;
  size_t max_inflight = 64;
  // Log compaction: once more than this many applied entries are in the
  // log, the prefix goes (the KV store is the snapshot). A leader keeps
  // entries its live followers still need, unless they lag by more than
  // compact_max_lag entries, in which case they get a snapshot.
  uint64_t compact_threshold = 10000;
  uint64_t compact_max_lag = 10000;
  size_t snapshot_chunk_bytes = 1 << 20;
  int snapshot_timeout_ms = 5000;  // no chunk ack for this long aborts a transfer
};

class Node {
 public:
  using Clock = std::chrono::steady_clock;
  // `out` receives each outgoing message as one line (no newline); `flush`
  // pushes what `out` collected to the wire now.
  Node(
      NodeOptions options, std::function<void(std::string)> out,
      std::function<void()> flush = [] {});
  ~Node();

  void handle_line(std::string_view line);
  void tick();
  // Runs Raft's Ready loop until nothing is left to do. Call after a batch
  // of input so one synced write covers the whole batch.
  void drive();
  // Requests accepted but not yet answered.
  size_t pending() const;
  // Set when the node must stop (fail-stop on a storage error): the reason.
  const std::optional<std::string>& fatal() const { return fatal_; }

  // Stats for --stats-interval lines.
  std::string stats() const;

 private:
  // Where a reply goes: straight to a client, or back through the follower
  // that forwarded the request.
  struct ReplyTo {
    std::string client;
    int64_t msg_id = 0;
    std::string via;  // forwarding server, empty when direct
    int64_t via_msg_id = 0;
  };
  struct PendingProposal {
    uint64_t term;
    ReplyTo to;
    std::string kind;  // "write", "cas" or "read"
    Clock::time_point deadline;
  };
  struct PendingRead {
    ReplyTo to;
    std::string key;
  };
  struct PendingForward {
    std::string client;
    int64_t client_msg_id;
    bool mutating;
    Clock::time_point deadline;
  };

  void handle(const Message& m);
  void handle_init(const Message& m);
  void handle_client(const Message& m, const ReplyTo& to);
  void handle_forward(const Message& m);
  void handle_forward_reply(const Message& m);
  void forward(const Message& m, const std::string& leader, bool mutating);

  void send(const std::string& dest, Json body);
  void send_raft(const std::vector<raft::Message>& msgs);
  void reply(const ReplyTo& to, Json payload);  // payload: type + fields, no ids
  void reply_error(const ReplyTo& to, ErrorCode code, std::string_view text);
  // reply_error, sent as `addressee` when this node has no id yet.
  void reply_error_as(const std::string& addressee, const ReplyTo& to, ErrorCode code,
                      std::string_view text);
  void fail_stop(const std::string& reason);

  void on_committed(const std::vector<raft::Entry>& entries);
  void maybe_compact();
  void start_snapshot(const std::string& to);
  void send_snapshot_chunk(const std::string& to);
  void handle_snapshot_chunk(const Message& m);
  void handle_snapshot_ack(const Message& m);
  void expire_snapshots();
  void apply_chunk(std::span<const raft::Entry> entries);
  // read_ok with the value (JSON text), or error 20 when absent.
  void reply_read(const ReplyTo& to, const std::optional<std::string>& value);
  void serve_reads();
  void expire_forwards();
  void expire_proposals();

  NodeOptions opts_;
  std::function<void(std::string)> out_;
  std::function<void()> flush_;
  std::string id_;
  std::vector<std::string> peers_;
  int64_t next_msg_id_ = 0;
  std::optional<std::string> fatal_;

  std::unique_ptr<storage::LogStore> log_store_;
  std::unique_ptr<storage::KvStore> kv_store_;
  std::unique_ptr<kv::StateMachine> sm_;
  std::unique_ptr<raft::Raft> raft_;

  std::map<uint64_t, PendingProposal> proposals_;  // by log index
  uint64_t next_read_ctx_ = 0;
  std::map<uint64_t, PendingRead> reads_;                   // by read context
  std::multimap<uint64_t, uint64_t> ready_reads_;           // read index -> context
  std::map<int64_t, PendingForward> forwards_;              // by our forward msg_id
  std::map<std::string, SnapshotSender> snapshot_senders_;  // by follower
  std::optional<SnapshotReceiver> snapshot_receiver_;
  uint64_t snapshots_sent_ = 0;
  uint64_t snapshots_installed_ = 0;
  uint64_t compactions_ = 0;
};

}  // namespace raftkv::maelstrom

// The server core: one raftkv replica, whatever the transport.
//
// It owns Raft, the state machine over the KV store, the log store, the
// requests in flight (proposals, linearizable reads, requests forwarded to
// the leader), log compaction, snapshot transfer in both directions, and
// recovery at start-up. It has no clock, sockets or wire format: inputs are
// typed client requests, typed peer messages and ticks, each with the time;
// outputs go to an Outbox. Transports (Maelstrom JSON on stdio, TCP) and the
// deterministic simulation all drive this same class.
//
// Single-threaded. A StorageError thrown from any method means the node
// must stop (fail-stop): the caller discards the core.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kv/state_machine.h"
#include "raft/raft.h"
#include "server/types.h"
#include "storage/kv_storage.h"
#include "storage/log_storage.h"

namespace raftkv::server {

enum class ReadMode { kIndex, kLog };

// A test hook that sees what the core does as it does it: the simulation
// checks Raft's safety properties here. Production runs without one.
class CoreObserver {
 public:
  virtual ~CoreObserver() = default;
  // A Ready as Raft handed it over, before any of it is done.
  virtual void on_ready(const raft::Raft&, const raft::Ready&) {}
  // Committed entries about to be applied, in order.
  virtual void on_apply(std::span<const raft::Entry>) {}
};

struct CoreOptions {
  int tick_ms = 10;  // one tick() call is one Raft tick
  int heartbeat_ms = 50;
  int election_timeout_ms = 500;
  ReadMode read_mode = ReadMode::kIndex;
  // A forwarded request with no answer by then gets an indefinite error.
  int forward_timeout_ms = 5000;
  uint64_t seed = 0;
  size_t max_append_bytes = 1 << 20;
  size_t max_inflight = 64;
  size_t max_entries_per_msg = 1024;
  bool pre_vote = true;
  bool check_quorum = true;
  // Log compaction: once more than compact_threshold applied entries, or
  // more than compact_bytes of entry data, are in the log, the prefix goes
  // (the KV store is the snapshot). A leader keeps entries its live
  // followers still need, unless they lag by more than compact_max_lag
  // entries or the log holds over 2 * compact_bytes: those get a snapshot.
  uint64_t compact_threshold = 10000;
  uint64_t compact_max_lag = 10000;
  uint64_t compact_bytes = 64 << 20;
  size_t snapshot_chunk_bytes = 1 << 20;
  int snapshot_timeout_ms = 5000;  // no chunk ack for this long aborts a transfer
  // The bootstrap voters on a fresh data dir (default: every known node).
  std::vector<raft::NodeId> initial_members;
  // Start with no configuration and wait to be added (a new or replacement
  // server joining a running cluster).
  bool join = false;
  // A learner is promoted only within this many entries of the leader.
  uint64_t max_promote_lag = 256;
  // Deliberately broken Raft behaviours: only the simulation sets these, to
  // show that its checks catch them.
  raft::Config::Bugs raft_bugs;
  CoreObserver* observer = nullptr;
  // Where the core's few log lines go (stderr in the binary).
  std::function<void(const std::string&)> log = [](const std::string&) {};
};

// Where the core's output goes.
class Outbox {
 public:
  virtual ~Outbox() = default;
  virtual void send(const raft::NodeId& to, PeerMessage m) = 0;
  virtual void reply(RequestId id, ClientReply r) = 0;
  // Push everything sent so far onto the wire now: called before each
  // fsync, so a leader's appends overlap its disk write, and replies and
  // forwarded requests that do not depend on the write do not wait for it.
  virtual void flush() {}
};

class Core {
 public:
  // `known` are the servers that may talk to us at all (Maelstrom's
  // node_ids, serve mode's --peers); who is a member is the log's business.
  // Recovers from the stores (checks they belong to this node and cluster,
  // finishes an interrupted snapshot install, replays nothing itself: Raft
  // re-applies from the KV store's applied point). Throws StorageError.
  Core(CoreOptions options, raft::NodeId id, std::vector<raft::NodeId> known,
       storage::LogStorage& log, storage::KvStorage& kv, Outbox& out, Millis now);
  ~Core();
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;

  void client_request(RequestId id, ClientRequest request, Millis now);
  void admin_request(RequestId id, AdminRequest request, Millis now);
  // Messages from a node that is not a member are dropped.
  void peer_message(const raft::NodeId& from, PeerMessage m, Millis now);
  void tick(Millis now);
  // Runs Raft's Ready loop until nothing is left: persist, send, apply,
  // reply. Call after a batch of input so one synced write covers it.
  void drive();

  // Requests accepted but not yet answered.
  size_t pending() const;
  // May `id` talk to us: a known server, or one the configuration names.
  bool is_member(const raft::NodeId& id) const;
  // This node is in the configuration in effect (voter or learner).
  bool in_configuration() const;
  const raft::Raft& raft() const { return *raft_; }
  const raft::NodeId& id() const { return id_; }
  const std::vector<raft::NodeId>& known() const { return known_; }

  // The configuration as this node sees it; `lag` (entries behind the
  // leader's log, per member) only on the leader.
  struct MembersView {
    std::vector<raft::Member> members;
    raft::NodeId leader;
    uint64_t config_index = 0;
    bool change_pending = false;
    std::map<raft::NodeId, uint64_t> lag;
  };
  MembersView members_view() const;
  std::string stats() const;

  struct Counters {
    uint64_t proposals = 0;  // client commands appended to the log here
    uint64_t compactions = 0;
    uint64_t snapshots_sent = 0;
    uint64_t snapshots_installed = 0;
    uint64_t strangers_dropped = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  // Where a reply goes: to a client of ours, or back through the follower
  // that forwarded the request.
  struct ReplyTo {
    RequestId request = 0;
    raft::NodeId via;  // forwarding server; empty when direct
    uint64_t forward_id = 0;
  };
  struct PendingProposal {
    uint64_t term;
    ReplyTo to;
    bool mutating;
    Millis deadline;
  };
  struct PendingTransfer {
    raft::NodeId target;
    Millis deadline;
  };
  struct PendingRead {
    ReplyTo to;
    ClientRequest request;
    Millis deadline;
  };
  struct PendingForward {
    RequestId request;
    raft::NodeId leader;
    bool mutating;
    Millis deadline;
  };
  struct SnapshotSender {
    std::unique_ptr<storage::KvStorage::SnapshotReader> reader;
    uint64_t next_seq = 0;
    bool last_sent = false;
    Millis deadline = 0;
    std::string config;  // the configuration at the snapshot point, in chunk 0
    uint64_t term = 0;   // the leader term it was started in
  };

  void recover();
  bool kv_holds_other_entry(const raft::Restored& r) const;
  void handle_client(const ReplyTo& to, ClientRequest request);
  void handle_forward(const raft::NodeId& from, ForwardRequest f);
  void handle_forward_reply(const raft::NodeId& from, ForwardReply r);
  void handle_raft(const raft::Message& m);
  void reply(const ReplyTo& to, ClientReply r);

  void send_messages(std::vector<raft::Message>& msgs);
  void stage_snapshot(const raft::Ready& rd);
  size_t durable_prefix(const raft::Ready& rd) const;
  void apply_committed(std::span<const raft::Entry> entries);
  void apply_chunk(std::span<const raft::Entry> entries);
  void serve_reads();
  ClientReply read_now(const ClientRequest& r);
  void maybe_compact();

  void start_snapshot(const raft::NodeId& to);
  void send_snapshot_chunk(const raft::NodeId& to, SnapshotSender& s);
  void on_snapshot_ack(const raft::Message& m);

  void expire(Millis now);
  void give_up_forward(const PendingForward& f, std::string_view why);
  void abandon_forwards_to_former_leaders();
  void finish_transfers();
  void note_config_change();

  CoreOptions opts_;
  raft::NodeId id_;
  std::vector<raft::NodeId> known_;
  std::vector<raft::NodeId> bootstrap_;  // initial voters; empty when joining
  uint64_t seen_config_index_ = 0;
  std::string seen_config_;  // encoded; a compaction moves the index, not this
  bool was_in_configuration_ = false;
  std::map<RequestId, PendingTransfer> transfers_;
  storage::LogStorage& log_;
  storage::KvStorage& kv_;
  Outbox& out_;
  Millis now_;

  std::unique_ptr<kv::StateMachine> sm_;
  std::unique_ptr<raft::Raft> raft_;

  std::map<uint64_t, PendingProposal> proposals_;  // by log index
  uint64_t next_read_ctx_ = 0;
  std::map<uint64_t, PendingRead> reads_;          // by read context
  std::multimap<uint64_t, uint64_t> ready_reads_;  // read index -> context
  uint64_t next_forward_id_ = 0;                 // starts at a random point: ids survive no restart
  std::map<uint64_t, PendingForward> forwards_;  // by forward id
  // Forwarded requests already taken, per follower, so that a duplicated
  // message never runs a request twice (bounded: the newest ids only).
  std::map<raft::NodeId, std::set<uint64_t>> forwards_seen_;
  std::map<raft::NodeId, SnapshotSender> senders_;
  std::unique_ptr<storage::KvStorage::SnapshotWriter> receiving_;
  Counters counters_;
};

}  // namespace raftkv::server

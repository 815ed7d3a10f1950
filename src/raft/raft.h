// Raft as a pure, deterministic state machine in the style of etcd-io/raft.
//
// Inputs: tick(), step(message), propose(data), read_index(context).
// Output: ready() hands over everything to do — persist the hard state and
// entries, then send messages, apply committed entries, serve read states —
// and advance() says it was done. No threads, clocks, I/O or unseeded
// randomness: the same inputs always give the same outputs, which is what
// lets the simulation tests replay a failing seed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "raft/log.h"
#include "raft/membership.h"
#include "raft/progress.h"
#include "raft/types.h"

namespace raftkv::raft {

struct Config {
  NodeId id;
  // The bootstrap configuration, used only when Restored has none: every
  // voter, including id. Empty for a server that joins an existing cluster
  // (it waits for the leader to add it and never campaigns before).
  std::vector<NodeId> voters;
  int election_tick = 10;  // follower timeout is random in [election_tick, 2*election_tick)
  int heartbeat_tick = 1;
  bool pre_vote = true;
  bool check_quorum = true;
  uint64_t seed = 0;
  size_t max_entries_per_msg = 1024;
  size_t max_bytes_per_msg = 1 << 20;
  size_t max_inflight_msgs = 64;
  // A learner is promoted only when it is at most this many entries behind.
  uint64_t max_promote_lag = 256;
  // Deliberately broken behaviours, for the simulation to prove that its
  // checks catch them. Never set outside tests.
  struct Bugs {
    bool concurrent_changes = false;     // a change may start before the last one commits
    bool config_on_commit = false;       // a configuration is used once committed, not appended
    bool removed_leader_serves = false;  // a leader that removed itself keeps leading
  } bugs;
};

// A single-server configuration change.
struct ConfigChange {
  enum class Kind { kAddLearner, kAddVoter, kPromote, kRemove };
  Kind kind = Kind::kAddLearner;
  NodeId node;
  std::string address;  // for additions
};

// Durable state found on disk at start-up.
struct Restored {
  HardState hard_state;
  uint64_t base_index = 0;  // log compacted up to here (the snapshot point)
  uint64_t base_term = 0;
  std::vector<Entry> entries;  // base_index+1 ...
  uint64_t applied = 0;        // the state machine already reflects entries up to here
  // The configuration as of `applied` (recorded with the state machine);
  // nullopt before any configuration entry was applied: Config::voters.
  std::optional<Membership> membership;
};

struct Ready {
  std::optional<HardState> hard_state;  // persist (synced) if set
  // Persist (synced) before sending messages; the first entry may replace a
  // suffix of what is on disk, so delete entries from entries[0].index on.
  std::vector<Entry> entries;
  std::vector<Message> messages;
  std::vector<Entry> committed;  // apply in order
  std::vector<ReadState> read_states;
  std::vector<uint64_t> dropped_reads;  // contexts of reads that will never be served here
  // Follower: chunks of an incoming snapshot to stage, in order, before
  // anything else in this Ready.
  std::vector<SnapshotChunk> snapshot_chunks;
  // Follower: the staged snapshot is complete; install it (the KV store
  // becomes it, the log restarts at its point) before persisting or sending
  // anything else in this Ready. Raft already restored its own log to it.
  struct Install {
    uint64_t index = 0;
    uint64_t term = 0;
    HardState hard_state;  // to write with the log's reset
  };
  std::optional<Install> install_snapshot;
  bool empty() const {
    return !hard_state && entries.empty() && messages.empty() && committed.empty() &&
           read_states.empty() && dropped_reads.empty() && snapshot_chunks.empty() &&
           !install_snapshot;
  }
};

enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };
const char* to_string(Role r);

class Raft {
 public:
  Raft(Config config, Restored restored);

  void tick();
  // Messages failing field sanity (refusal()) are dropped and counted.
  void step(const Message& m);
  static constexpr uint64_t kMaxTerm = uint64_t{1} << 62;
  static const char* refusal(const Message& m);
  uint64_t refused() const { return refused_; }
  // Appends a command if this node is the leader; returns {index, term}.
  struct Proposed {
    uint64_t index;
    uint64_t term;
  };
  std::optional<Proposed> propose(std::string data);
  // Appends a configuration change if this node is the leader and the change
  // is safe to start now; otherwise says why not (nothing was appended).
  std::variant<Proposed, std::string> propose_config(const ConfigChange& change);
  // Leadership transfer (thesis 3.10): stops taking proposals, brings `to`
  // up to date, then tells it to campaign at once. Gives up after an
  // election timeout. Returns why it cannot start, or nullopt.
  std::optional<std::string> transfer_leadership(const NodeId& to);
  const NodeId& transferee() const { return transferee_; }
  // Starts a linearizable read; false if this node is not the leader. The
  // read shows up in a later Ready as a ReadState or as a dropped read.
  bool read_index(uint64_t context);
  // Starts an election now (used for single-member clusters at start-up).
  void campaign();

  // Log compaction: the state machine is durable up to `index` (<= applied).
  void compact(uint64_t index);
  // Follower: the log restarts at a snapshot point (index/term) that the
  // driver has made the state machine's. Normally reached by stepping
  // kSnapshotChunk messages, which put the install in a Ready.
  void restore(uint64_t index, uint64_t term, Membership config);
  // Leader: the driver finished (ok) or gave up on sending a snapshot.
  void report_snapshot(const NodeId& to, bool ok);

  bool has_ready() const;
  Ready ready();
  void advance(const Ready& r);

  const NodeId& id() const { return cfg_.id; }
  Role role() const { return role_; }
  uint64_t term() const { return term_; }
  const NodeId& vote() const { return vote_; }
  const NodeId& leader() const { return leader_; }
  uint64_t commit_index() const { return commit_; }
  uint64_t leader_commit() const { return leader_commit_; }
  // leader_commit is saved as at least the commit index, so that it changes
  // (and costs a write) only when it says more than that.
  HardState hard_state() const {
    return HardState{term_, vote_, commit_, std::max(leader_commit_, commit_)};
  }
  uint64_t applied_index() const { return applied_; }
  const RaftLog& log() const { return log_; }
  const std::map<NodeId, Progress>& progress() const { return progress_; }
  // The configuration in effect: the newest one in the log, committed or not
  // (with the config_on_commit bug: the newest committed one).
  const Membership& membership() const;
  uint64_t membership_index() const;  // its entry's index (the log base for the base one)
  // The configuration in effect at `index` (>= the log's base index).
  const Membership& membership_at(uint64_t index) const;
  // A configuration change is appended but not yet committed.
  bool config_change_pending() const {
    return !configs_.empty() && configs_.rbegin()->first > commit_;
  }

 private:
  void become_follower(uint64_t term, const NodeId& leader);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(uint64_t term);
  void reset_randomized_timeout();
  bool in_lease() const;
  bool is_voter() const { return is_voter_; }
  size_t quorum() const { return voters_.size() / 2 + 1; }
  // Whether a majority of the voters satisfy `pred` (this node, when a
  // voter, always does).
  bool voters_reach_quorum(const std::function<bool(const NodeId&)>& pred) const;
  void load_configs(const std::optional<Membership>& restored);
  void track_config_entries(uint64_t from, uint64_t to);
  void on_config_change();
  // Why a change to `next` could leave its voters without a reachable
  // quorum, or nullopt (raft_config.cc).
  std::optional<std::string> quorum_risk(const Membership& next) const;
  void remember_config();
  void after_commit();
  void send_timeout_now(const NodeId& to);
  // This leader's own removal is committed: it must hand over and stop.
  bool removal_committed() const;
  void release_departed();
  bool may_campaign() const;
  size_t count_votes(bool granted) const;
  void campaign_now(bool transfer);
  void handle_timeout_now(const Message& m);

  void step_leader(const Message& m);
  void step_candidate(const Message& m);
  void step_follower(const Message& m);
  void handle_vote_request(const Message& m);
  void handle_append(const Message& m);
  void drop_unsent_acks_from(uint64_t index);
  void handle_heartbeat(const Message& m);
  void handle_append_resp(const Message& m);
  void handle_heartbeat_resp(const Message& m);
  void handle_snapshot_chunk(const Message& m);
  void handle_snapshot_resp(const Message& m);

  void send(Message m);
  void send_append(const NodeId& to, bool allow_empty);
  void broadcast_append();
  void broadcast_heartbeat(uint64_t context);
  void send_heartbeat(const NodeId& to, uint64_t context);
  bool maybe_commit();
  void release_reads();
  void drop_reads();
  void poll_votes(const Message& m);

  Config cfg_;
  uint64_t refused_ = 0;
  std::mt19937_64 rng_;
  RaftLog log_;
  Role role_ = Role::kFollower;
  uint64_t term_ = 0;
  NodeId vote_;
  NodeId leader_;
  uint64_t commit_ = 0;
  uint64_t leader_commit_ = 0;  // see HardState::leader_commit
  uint64_t applied_ = 0;
  HardState persisted_hs_;

  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;
  int randomized_timeout_ = 0;

  std::map<NodeId, Progress> progress_;  // leader only; excludes self
  std::map<NodeId, bool> votes_;
  bool pending_broadcast_ = false;

  struct PendingRead {
    uint64_t round;
    uint64_t index;
    uint64_t context;
  };
  std::deque<PendingRead> reads_;
  uint64_t read_round_ = 0;
  bool pending_read_broadcast_ = false;

  // Follower: the snapshot transfer being received (from the leader of
  // `term`), and the chunks accepted since the last Ready.
  struct Incoming {
    NodeId from;
    uint64_t term = 0, index = 0, log_term = 0, next_seq = 0;
    Membership config;
  };
  std::optional<Incoming> incoming_;
  std::vector<SnapshotChunk> staged_chunks_;
  std::optional<Ready::Install> install_;

  // Configurations: the one at the log's base, and each kConfig entry
  // after it by index. The one in effect is the newest (membership()).
  Membership base_config_;
  std::map<uint64_t, Membership> configs_;
  uint64_t effective_config_index_ = 0;
  // The voters of the configuration in effect, cached: the hot paths
  // (commit, read confirmation) need them on every acknowledgement.
  std::vector<NodeId> voters_;
  bool is_voter_ = false;
  // Leader: members removed by a configuration not yet committed; still
  // sent the log so they learn of their removal, counted in no quorum.
  std::map<NodeId, uint64_t> leaving_;
  uint64_t term_start_ = 0;  // leader: index of its first entry in this term
  NodeId transferee_;        // leader: leadership transfer in progress to
  int transfer_elapsed_ = 0;

  std::vector<Message> msgs_;
  std::vector<ReadState> read_states_;
  std::vector<uint64_t> dropped_reads_;
};

}  // namespace raftkv::raft

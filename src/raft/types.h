// Plain data that flows in and out of the Raft state machine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace raftkv::raft {

using NodeId = std::string;

enum class EntryType : uint8_t {
  kNormal = 0,  // a client command, opaque to Raft
  kNoop = 1,    // appended by each new leader so it can commit entries of older terms
  kConfig = 2,  // data: the whole new Membership (raft/membership.h), in effect once appended
};

struct Entry {
  uint64_t term = 0;
  uint64_t index = 0;
  EntryType type = EntryType::kNormal;
  std::string data;

  friend bool operator==(const Entry&, const Entry&) = default;
};

enum class MsgType : uint8_t {
  kAppend,      // index/log_term: previous entry; entries; commit
  kAppendResp,  // index: last matching index, or the rejected prev index
  kVote,        // index/log_term: candidate's last entry
  kVoteResp,
  kPreVote,  // term: the term the sender would campaign in
  kPreVoteResp,
  kHeartbeat,      // commit; context: newest read-index round
  kHeartbeatResp,  // context: echoed
  kSnapshot,       // leader to its driver: stream a snapshot (index/log_term) to `to`
  kSnapshotResp,   // context: the chunk acknowledged; reject: the transfer is refused
  kSnapshotChunk,  // index/log_term: the snapshot point; context: chunk number from 0;
                   // last; data: the chunk (opaque to Raft). The driver sends these for
                   // a kSnapshot, in the leader's term. Chunk 0 carries `config`.
  kTimeoutNow,     // leadership transfer: the leader tells `to` to campaign at once
};

// kVote context of a campaign started by kTimeoutNow: voters grant it even
// while they still hear from the (transferring) leader.
inline constexpr uint64_t kCampaignTransfer = 1;

const char* to_string(MsgType t);

struct Message {
  MsgType type = MsgType::kAppend;
  NodeId from{};
  NodeId to{};
  uint64_t term = 0;
  uint64_t log_term = 0;
  uint64_t index = 0;
  uint64_t commit = 0;
  std::vector<Entry> entries{};
  bool reject = false;
  // On a rejected append: the follower's hint where the leader should retry
  // (first index of the conflicting term, or its last index + 1), and the
  // conflicting term (0 when the follower's log is simply too short).
  uint64_t reject_hint = 0;
  uint64_t conflict_term = 0;
  uint64_t context = 0;
  bool last = false;   // kSnapshotChunk: the final chunk
  std::string data{};  // kSnapshotChunk: opaque payload
  // kSnapshotChunk number 0: the encoded Membership at the snapshot point.
  std::string config{};

  friend bool operator==(const Message&, const Message&) = default;
};

// What must be durable before any message that depends on it is sent.
struct HardState {
  uint64_t term = 0;
  NodeId vote;  // empty: voted for nobody in this term
  uint64_t commit = 0;
  // The highest commit index a leader has told us of; it may lie beyond our
  // own log. A server behind it cannot win an election, and must not try:
  // the configuration at the end of its log is stale. (A wiped server that
  // rejoins under its old name replays configurations of its former life,
  // in which it may have been the only voter; simulation seed 7125.) Like
  // `commit`, it is saved with the entries it came with, and a crash may
  // lose it only where it could lose the commit index too.
  uint64_t leader_commit = 0;

  friend bool operator==(const HardState&, const HardState&) = default;
};

// A snapshot chunk the driver must stage, before sending the Ready's
// messages (one of which acknowledges it).
struct SnapshotChunk {
  NodeId from;               // the leader sending it...
  uint64_t leader_term = 0;  // ...in this term
  uint64_t index = 0;        // snapshot point
  uint64_t term = 0;
  uint64_t seq = 0;  // 0 starts a new transfer
  bool last = false;
  std::string data;
  std::string config;  // seq 0: the encoded Membership at the snapshot point
};

// A linearizable read may be served once the state machine has applied
// `index`. `context` is the caller's id for the read.
struct ReadState {
  uint64_t index = 0;
  uint64_t context = 0;
};

}  // namespace raftkv::raft

// The leader's view of one follower's log.
#pragma once

#include <cstdint>
#include <deque>

namespace raftkv::raft {

struct Progress {
  enum class State {
    kProbe,      // one append at a time until we find where the logs match
    kReplicate,  // pipelining: up to max_inflight appends outstanding
    kSnapshot,   // a snapshot is being sent; appends wait for it
  };

  uint64_t match = 0;
  uint64_t next = 1;
  State state = State::kProbe;
  bool probe_sent = false;
  std::deque<uint64_t> inflight;   // last index carried by each outstanding append
  bool recent_active = false;      // heard from in the current check-quorum window
  uint64_t read_ack = 0;           // newest read round this follower acknowledged
  int ticks_without_progress = 0;  // while appends are outstanding
  uint64_t pending_snapshot = 0;   // index of the snapshot being sent

  void become_probe() {
    state = State::kProbe;
    next = match + 1;
    probe_sent = false;
    inflight.clear();
    ticks_without_progress = 0;
  }
  void become_replicate() {
    state = State::kReplicate;
    next = match + 1;
    inflight.clear();
    ticks_without_progress = 0;
  }
};

}  // namespace raftkv::raft

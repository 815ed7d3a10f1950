#include "raft/raft.h"

#include <algorithm>
#include <iostream>

#include "raft/check.h"

namespace raftkv::raft {

const char* to_string(Role r) {
  switch (r) {
    case Role::kFollower:
      return "follower";
    case Role::kPreCandidate:
      return "pre-candidate";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
  }
  return "?";
}

const char* to_string(MsgType t) {
  switch (t) {
    case MsgType::kAppend:
      return "app";
    case MsgType::kAppendResp:
      return "app_resp";
    case MsgType::kVote:
      return "vote";
    case MsgType::kVoteResp:
      return "vote_resp";
    case MsgType::kPreVote:
      return "prevote";
    case MsgType::kPreVoteResp:
      return "prevote_resp";
    case MsgType::kHeartbeat:
      return "hb";
    case MsgType::kHeartbeatResp:
      return "hb_resp";
    case MsgType::kSnapshot:
      return "snap";
    case MsgType::kSnapshotChunk:
      return "snap_chunk";
    case MsgType::kSnapshotResp:
      return "snap_resp";
    case MsgType::kTimeoutNow:
      return "timeout_now";
  }
  return "?";
}

Raft::Raft(Config config, Restored restored)
    : cfg_(std::move(config)),
      rng_(cfg_.seed),
      log_(restored.base_index, restored.base_term, std::move(restored.entries)) {
  term_ = restored.hard_state.term;
  vote_ = restored.hard_state.vote;
  // The persisted commit index may be stale but never wrong; entries between
  // applied and commit are replayed through ready().committed.
  commit_ = std::min(restored.hard_state.commit, log_.last_index());
  applied_ = std::max(restored.applied, restored.base_index);
  commit_ = std::max(commit_, applied_);
  leader_commit_ = restored.hard_state.leader_commit;
  persisted_hs_ = restored.hard_state;
  load_configs(restored.membership);
  become_follower(term_, "");
}

// ---- roles ----------------------------------------------------------------

void Raft::reset(uint64_t term) {
  if (term != term_) {
    term_ = term;
    vote_.clear();
  }
  leader_.clear();
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_timeout();
  votes_.clear();
  progress_.clear();
  leaving_.clear();
  transferee_.clear();
  transfer_elapsed_ = 0;
  pending_broadcast_ = false;
  pending_read_broadcast_ = false;
}

void Raft::reset_randomized_timeout() {
  randomized_timeout_ =
      cfg_.election_tick + static_cast<int>(rng_() % static_cast<uint64_t>(cfg_.election_tick));
}

void Raft::become_follower(uint64_t term, const NodeId& leader) {
  if (role_ == Role::kLeader) drop_reads();
  reset(term);
  role_ = Role::kFollower;
  leader_ = leader;
}

void Raft::become_pre_candidate() {
  // A pre-candidate keeps its term and vote: it only asks whether it could win.
  role_ = Role::kPreCandidate;
  leader_.clear();
  votes_.clear();
  election_elapsed_ = 0;
  reset_randomized_timeout();
}

void Raft::become_candidate() {
  reset(term_ + 1);
  role_ = Role::kCandidate;
  vote_ = cfg_.id;
}

void Raft::become_leader() {
  reset(term_);
  role_ = Role::kLeader;
  leader_ = cfg_.id;
  // A no-op in the new term lets the leader commit (and so learn the commit
  // index of) everything earlier, which reads and the client replies need.
  // Configuration changes also wait for it (see propose_config).
  term_start_ = log_.last_index() + 1;
  log_.append(Entry{term_, term_start_, EntryType::kNoop, {}});
  on_config_change();  // a Progress for every other member, starting at the no-op
  pending_broadcast_ = true;
}

void Raft::campaign() {
  // Learners, joining servers and removed servers never stand.
  if (role_ == Role::kLeader || !may_campaign()) return;
  if (cfg_.pre_vote && role_ != Role::kPreCandidate) {
    become_pre_candidate();
    votes_[cfg_.id] = true;
    if (count_votes(true) >= quorum()) return campaign();
    for (const NodeId& p : voters_) {
      if (p == cfg_.id) continue;
      send(Message{.type = MsgType::kPreVote,
                   .to = p,
                   .term = term_ + 1,
                   .log_term = log_.last_term(),
                   .index = log_.last_index()});
    }
    return;
  }
  campaign_now(false);
}

void Raft::campaign_now(bool transfer) {
  become_candidate();
  votes_[cfg_.id] = true;
  if (count_votes(true) >= quorum()) return become_leader();
  for (const NodeId& p : voters_) {
    if (p == cfg_.id) continue;
    send(Message{.type = MsgType::kVote,
                 .to = p,
                 .term = term_,
                 .log_term = log_.last_term(),
                 .index = log_.last_index(),
                 .context = transfer ? kCampaignTransfer : 0});
  }
}

bool Raft::in_lease() const {
  // With check-quorum, a node that heard from a live leader within the
  // election timeout ignores vote requests, so a rejoining partitioned node
  // cannot depose a healthy leader.
  return cfg_.check_quorum && !leader_.empty() && election_elapsed_ < cfg_.election_tick;
}

// ---- ticks ----------------------------------------------------------------

void Raft::tick() {
  ++election_elapsed_;
  if (role_ != Role::kLeader) {
    if (election_elapsed_ >= randomized_timeout_) {
      election_elapsed_ = 0;
      if (role_ == Role::kPreCandidate) role_ = Role::kFollower;  // retry the pre-vote
      // A leader silent for a whole timeout is forgotten, by non-voters too:
      // else one that cannot campaign would stay in its lease for good and
      // ignore the (pre-)votes of those who can (simulation seed 263).
      if (role_ == Role::kFollower) leader_.clear();
      campaign();
    }
    return;
  }
  if (!transferee_.empty() && ++transfer_elapsed_ >= cfg_.election_tick) {
    transferee_.clear();  // the target did not take over in time: lead on...
    if (removal_committed()) return become_follower(term_, "");  // ...unless removed
  }
  if (!leaving_.empty()) release_departed();
  if (++heartbeat_elapsed_ >= cfg_.heartbeat_tick) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat(reads_.empty() ? 0 : reads_.back().round);
  }
  for (auto& [id, pr] : progress_) {
    // An append lost in the pipeline would otherwise stall this follower
    // until the next proposal; after a while, fall back to probing.
    if (pr.state == Progress::State::kReplicate && !pr.inflight.empty() &&
        ++pr.ticks_without_progress >= std::max(2, cfg_.election_tick / 2)) {
      pr.become_probe();
      send_append(id, true);
    }
  }
  if (election_elapsed_ >= cfg_.election_tick) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum) {
      bool active = voters_reach_quorum([&](const NodeId& id) {
        auto it = progress_.find(id);
        return it != progress_.end() && it->second.recent_active;
      });
      for (auto& [id, pr] : progress_) pr.recent_active = false;
      if (!active) become_follower(term_, "");
    }
  }
}

// ---- messages -------------------------------------------------------------

void Raft::send(Message m) {
  m.from = cfg_.id;
  if (m.term == 0) m.term = term_;
  msgs_.push_back(std::move(m));
}

// Field sanity: why a message must not be obeyed, or nullptr. Terms above
// kMaxTerm are refused so an adopted term can never wrap at a later
// election (2^62 elections will not happen); an append's entries must
// follow its prev index contiguously, with terms that never decrease
// (starting from the prev entry's term) and never exceed the message term.
const char* Raft::refusal(const Message& m) {
  if (m.term > kMaxTerm) return "term at the top of its range";
  if (m.type != MsgType::kAppend) return nullptr;
  for (const Entry& e : m.entries) {
    if (e.type == EntryType::kConfig && !Membership::decode(e.data)) {
      return "append with a malformed configuration entry";
    }
  }
  if (m.log_term > m.term) return "append whose prev log term exceeds its term";
  if (m.index > UINT64_MAX - 1 - m.entries.size()) return "append whose indexes overflow";
  uint64_t prev_term = m.log_term;
  for (size_t i = 0; i < m.entries.size(); ++i) {
    const Entry& e = m.entries[i];
    if (e.index != m.index + 1 + i) return "append whose entry indexes are not contiguous";
    if (e.term < prev_term) return "append whose entry terms decrease";
    if (e.term > m.term) return "append with an entry term above its term";
    prev_term = e.term;
  }
  return nullptr;
}

void Raft::step(const Message& m) {
  if (const char* why = refusal(m)) {
    // Rate-limited: the first ten, then one in a thousand.
    if (++refused_ <= 10 || refused_ % 1000 == 0) {
      std::cerr << "raft " << cfg_.id << ": refused " << to_string(m.type) << " from " << m.from
                << " (term " << m.term << "): " << why << " [" << refused_ << " refused]"
                << std::endl;
    }
    return;
  }
  if (m.term > term_) {
    bool is_vote = m.type == MsgType::kVote || m.type == MsgType::kPreVote;
    bool transfer = m.type == MsgType::kVote && m.context == kCampaignTransfer;
    if (is_vote && in_lease() && !transfer) return;
    if (m.type == MsgType::kPreVote) {
      // Never changes our term: the sender has not started an election.
    } else if (m.type == MsgType::kPreVoteResp && !m.reject) {
      // Carries the term we would campaign in; counted below.
    } else if (m.type == MsgType::kAppend || m.type == MsgType::kHeartbeat ||
               m.type == MsgType::kSnapshotChunk) {
      become_follower(m.term, m.from);
    } else {
      // Raft 5.2: only the leader's messages and a granted vote reset the
      // election timer. A candidate that cannot win (its log is behind)
      // must not keep the up-to-date servers from ever timing out: without
      // PreVote its elections would otherwise hold the cluster leaderless
      // (simulation seed 7907, chaos, 3 nodes, no pre-vote).
      int elapsed = election_elapsed_;
      become_follower(m.term, "");
      election_elapsed_ = elapsed;
    }
  } else if (m.term < term_) {
    if (m.type == MsgType::kAppend || m.type == MsgType::kHeartbeat) {
      // A stale leader: tell it our term so it steps down (it may be cut off
      // from everyone but us, and with pre-vote nobody else would tell it).
      send(Message{.type = MsgType::kAppendResp, .to = m.from});
    } else if (m.type == MsgType::kSnapshotChunk) {
      // A deposed leader's transfer: refuse it, and tell it our term.
      send(Message{
          .type = MsgType::kSnapshotResp, .to = m.from, .reject = true, .context = m.context});
    } else if (m.type == MsgType::kPreVote) {
      send(Message{.type = MsgType::kPreVoteResp, .to = m.from, .reject = true});
    }
    return;
  }

  switch (m.type) {
    case MsgType::kVote:
    case MsgType::kPreVote:
      return handle_vote_request(m);
    default:
      break;
  }
  switch (role_) {
    case Role::kLeader:
      return step_leader(m);
    case Role::kCandidate:
    case Role::kPreCandidate:
      return step_candidate(m);
    case Role::kFollower:
      return step_follower(m);
  }
}

void Raft::handle_vote_request(const Message& m) {
  bool pre = m.type == MsgType::kPreVote;
  bool can_vote = vote_ == m.from || (vote_.empty() && leader_.empty()) || (pre && m.term > term_);
  bool grant = can_vote && log_.is_up_to_date(m.index, m.log_term);
  MsgType resp = pre ? MsgType::kPreVoteResp : MsgType::kVoteResp;
  if (grant) {
    // A granted pre-vote answers in the term asked about, so the requester
    // can tell a grant for its future term from a stale reply.
    send(Message{.type = resp, .to = m.from, .term = m.term});
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from;
    }
  } else {
    send(Message{.type = resp, .to = m.from, .reject = true});
  }
}

void Raft::poll_votes(const Message& m) {
  votes_.emplace(m.from, !m.reject);
  // Only the answers of voters in effect count (our own too, when we are one).
  size_t granted = count_votes(true), rejected = count_votes(false);
  size_t majority = quorum();
  if (granted >= majority) {
    if (role_ == Role::kPreCandidate) {
      campaign();
    } else {
      become_leader();
    }
  } else if (rejected >= majority) {
    become_follower(term_, "");
  }
}

void Raft::step_candidate(const Message& m) {
  switch (m.type) {
    case MsgType::kAppend:
    case MsgType::kHeartbeat:
    case MsgType::kSnapshotChunk:
      become_follower(m.term, m.from);
      if (m.type == MsgType::kSnapshotChunk) return handle_snapshot_chunk(m);
      return m.type == MsgType::kAppend ? handle_append(m) : handle_heartbeat(m);
    case MsgType::kPreVoteResp:
      if (role_ == Role::kPreCandidate) poll_votes(m);
      return;
    case MsgType::kVoteResp:
      if (role_ == Role::kCandidate) poll_votes(m);
      return;
    default:
      return;
  }
}

void Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MsgType::kAppend:
      election_elapsed_ = 0;
      leader_ = m.from;
      return handle_append(m);
    case MsgType::kHeartbeat:
      election_elapsed_ = 0;
      leader_ = m.from;
      return handle_heartbeat(m);
    case MsgType::kTimeoutNow:
      return handle_timeout_now(m);
    case MsgType::kSnapshotChunk:
      if (!leader_.empty() && leader_ != m.from) {
        // A term has one leader: a snapshot from anyone else is forged or
        // confused, and must not replace our state.
        send(Message{
            .type = MsgType::kSnapshotResp, .to = m.from, .reject = true, .context = m.context});
        return;
      }
      election_elapsed_ = 0;
      leader_ = m.from;
      return handle_snapshot_chunk(m);
    default:
      return;
  }
}

void Raft::handle_append(const Message& m) {
  leader_commit_ = std::max(leader_commit_, m.commit);
  if (m.index < commit_) {
    // Everything up to our commit index already matches the leader.
    send(Message{.type = MsgType::kAppendResp, .to = m.from, .index = commit_});
    return;
  }
  auto prev_term = log_.term_at(m.index);
  if (prev_term && *prev_term == m.log_term) {
    auto [last_new, truncated_from] = log_.append_from_leader(m.index, m.entries);
    if (truncated_from) drop_unsent_acks_from(*truncated_from);
    track_config_entries(m.index + 1, last_new);
    commit_ = std::max(commit_, std::min(m.commit, last_new));
    after_commit();
    send(Message{.type = MsgType::kAppendResp, .to = m.from, .index = last_new});
    return;
  }
  // Reject with a hint: the last index at or before the leader's prev whose
  // term is no newer than the leader's prev term. The leader skips a whole
  // conflicting term per round trip instead of one entry.
  uint64_t hint = std::min(m.index, log_.last_index());
  hint = log_.last_index_with_term_at_most(m.log_term, hint);
  send(Message{.type = MsgType::kAppendResp,
               .to = m.from,
               .index = m.index,
               .reject = true,
               .reject_hint = hint,
               .conflict_term = log_.term_at(hint).value_or(0)});
}

// An ack still waiting in msgs_ for the Ready may name entries that a newer
// leader's append (or a snapshot) has just replaced: the Ready persists only
// the new state, so that ack would claim entries this server will never hold
// (simulation seed 302038: two appends of terms 5 and 6 stepped before one
// Ready). It is dropped, as the network might have dropped it.
void Raft::drop_unsent_acks_from(uint64_t index) {
  std::erase_if(msgs_, [index](const Message& m) {
    return m.type == MsgType::kAppendResp && !m.reject && m.index >= index;
  });
}

void Raft::handle_heartbeat(const Message& m) {
  leader_commit_ = std::max(leader_commit_, m.commit);
  commit_ = std::max(commit_, std::min(m.commit, log_.last_index()));
  after_commit();
  send(Message{.type = MsgType::kHeartbeatResp,
               .to = m.from,
               .index = log_.last_index(),
               .context = m.context});
}

// ---- leader -----------------------------------------------------------------

void Raft::step_leader(const Message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  it->second.recent_active = true;
  switch (m.type) {
    case MsgType::kAppendResp:
      return handle_append_resp(m);
    case MsgType::kHeartbeatResp:
      return handle_heartbeat_resp(m);
    case MsgType::kSnapshotResp:
      return handle_snapshot_resp(m);
    default:
      return;
  }
}

void Raft::handle_append_resp(const Message& m) {
  Progress& pr = progress_[m.from];
  if (m.reject) {
    // Ignore stale rejections: ones about an index we already know matches
    // (probing never goes below the match, so answering one would only
    // repeat the same probe: with a follower that lost its log, one
    // exchange per heartbeat grew into a storm), or, while probing, about a
    // probe we are no longer waiting for.
    if (m.index <= pr.match ||
        (pr.state != Progress::State::kReplicate && m.index != pr.next - 1)) {
      return;
    }
    uint64_t probe = m.reject_hint;
    if (m.conflict_term > 0) probe = log_.last_index_with_term_at_most(m.conflict_term, probe);
    pr.become_probe();
    pr.next = std::max(pr.match + 1, std::min(m.index, probe + 1));
    send_append(m.from, true);
    return;
  }
  bool progressed = m.index > pr.match;
  if (progressed) {
    pr.match = m.index;
    pr.ticks_without_progress = 0;
  }
  pr.next = std::max(pr.next, m.index + 1);
  if (pr.state == Progress::State::kSnapshot) {
    if (m.index < pr.pending_snapshot) return;  // an old answer, from before the snapshot
    pr.become_replicate();
  } else if (pr.state == Progress::State::kProbe) {
    pr.become_replicate();
  } else {
    while (!pr.inflight.empty() && pr.inflight.front() <= m.index) pr.inflight.pop_front();
  }
  if (progressed && maybe_commit()) pending_broadcast_ = true;
  // The commit may have finished our own removal, or the sender's.
  if (role_ != Role::kLeader || !progress_.contains(m.from)) return;
  send_append(m.from, false);
  if (m.from == transferee_ && progress_.at(m.from).match == log_.last_index()) {
    send_timeout_now(m.from);
  }
}

void Raft::handle_heartbeat_resp(const Message& m) {
  Progress& pr = progress_[m.from];
  pr.probe_sent = false;
  if (pr.match < log_.last_index()) send_append(m.from, false);
  if (m.context > pr.read_ack) {
    pr.read_ack = m.context;
    release_reads();
  }
}

void Raft::send_append(const NodeId& to, bool allow_empty) {
  Progress& pr = progress_[to];
  if (pr.state == Progress::State::kProbe && pr.probe_sent) return;
  if (pr.state == Progress::State::kReplicate && pr.inflight.size() >= cfg_.max_inflight_msgs) {
    return;
  }
  if (pr.state == Progress::State::kSnapshot) return;
  do {
    uint64_t prev = pr.next - 1;
    auto prev_term = log_.term_at(prev);
    if (!prev_term) {
      // The follower needs entries we compacted away: ask the driver to
      // stream it a snapshot, and hold appends until it reports back.
      pr.state = Progress::State::kSnapshot;
      pr.pending_snapshot = log_.base_index();
      pr.inflight.clear();
      send(Message{.type = MsgType::kSnapshot,
                   .to = to,
                   .log_term = log_.base_term(),
                   .index = log_.base_index()});
      return;
    }
    std::vector<Entry> ents =
        log_.slice(pr.next, log_.last_index(), cfg_.max_entries_per_msg, cfg_.max_bytes_per_msg);
    if (ents.empty() && !allow_empty) return;
    uint64_t last = ents.empty() ? prev : ents.back().index;
    send(Message{.type = MsgType::kAppend,
                 .to = to,
                 .log_term = *prev_term,
                 .index = prev,
                 .commit = commit_,
                 .entries = std::move(ents)});
    allow_empty = false;
    if (pr.state == Progress::State::kProbe) {
      pr.probe_sent = true;
      return;
    }
    if (last > prev) {
      pr.next = last + 1;
      pr.inflight.push_back(last);
    }
    // Pipelining: keep sending while the window has room and entries remain.
  } while (pr.next <= log_.last_index() && pr.inflight.size() < cfg_.max_inflight_msgs);
}

void Raft::broadcast_append() {
  for (auto& [id, pr] : progress_) send_append(id, false);
}

void Raft::send_heartbeat(const NodeId& to, uint64_t context) {
  // Never tell a follower to commit beyond what it is known to hold.
  const Progress& pr = progress_[to];
  send(Message{.type = MsgType::kHeartbeat,
               .to = to,
               .commit = std::min(pr.match, commit_),
               .context = context});
}

void Raft::broadcast_heartbeat(uint64_t context) {
  for (auto& [id, pr] : progress_) send_heartbeat(id, context);
}

bool Raft::maybe_commit() {
  // Only the voters of the configuration in effect count, the leader itself
  // included only while it is one (once its entries are synced).
  std::vector<uint64_t> matches;
  for (const NodeId& id : voters_) {
    if (id == cfg_.id) {
      if (is_voter() || cfg_.bugs.removed_leader_serves) matches.push_back(log_.stable_index());
      continue;
    }
    auto it = progress_.find(id);
    matches.push_back(it == progress_.end() ? 0 : it->second.match);
  }
  if (cfg_.bugs.removed_leader_serves && !is_voter()) matches.push_back(log_.stable_index());
  std::sort(matches.begin(), matches.end(), std::greater<>());
  size_t majority = quorum();
  if (matches.size() < majority) return false;
  uint64_t q = matches[majority - 1];
  // Only entries of the current term are committed by counting replicas
  // (Raft §5.4.2); earlier ones commit with them.
  if (q > commit_ && log_.term_at(q) == term_) {
    commit_ = q;
    after_commit();
    return true;
  }
  return false;
}

std::optional<Raft::Proposed> Raft::propose(std::string data) {
  // During a transfer the target must catch up with a log that stops growing.
  if (role_ != Role::kLeader || !transferee_.empty()) return std::nullopt;
  Entry e{term_, log_.last_index() + 1, EntryType::kNormal, std::move(data)};
  Proposed p{e.index, e.term};
  log_.append(std::move(e));
  // Sent from ready(), so a burst of proposals shares one append per follower.
  pending_broadcast_ = true;
  return p;
}

// ---- linearizable reads -----------------------------------------------------

bool Raft::read_index(uint64_t context) {
  if (role_ != Role::kLeader) return false;
  // Read at the end of our log, not at the commit index: as leader we hold
  // every committed entry, so the end is at least the cluster's commit
  // index even before we commit in our own term, and a read then also sees
  // every write this leader accepted before it. It is served once a quorum
  // confirms our leadership after it arrived and the state machine has
  // applied up to this index.
  reads_.push_back(PendingRead{++read_round_, log_.last_index(), context});
  pending_read_broadcast_ = true;
  release_reads();
  return true;
}

void Raft::release_reads() {
  while (!reads_.empty()) {
    const PendingRead& r = reads_.front();
    bool confirmed = voters_reach_quorum([&](const NodeId& id) {
      auto it = progress_.find(id);
      return it != progress_.end() && it->second.read_ack >= r.round;
    });
    if (!confirmed) break;
    read_states_.push_back(ReadState{r.index, r.context});
    reads_.pop_front();
  }
  if (reads_.empty()) pending_read_broadcast_ = false;
}

void Raft::drop_reads() {
  for (const PendingRead& r : reads_) dropped_reads_.push_back(r.context);
  reads_.clear();
}

// ---- ready / advance --------------------------------------------------------

bool Raft::has_ready() const {
  return pending_broadcast_ || pending_read_broadcast_ || !msgs_.empty() ||
         !staged_chunks_.empty() || install_.has_value() || hard_state() != persisted_hs_ ||
         log_.last_index() > log_.stable_index() ||
         applied_ < std::min(commit_, log_.stable_index()) || !read_states_.empty() ||
         !dropped_reads_.empty();
}

Ready Raft::ready() {
  if (role_ == Role::kLeader) {
    if (pending_broadcast_) broadcast_append();
    if (pending_read_broadcast_ && !reads_.empty()) broadcast_heartbeat(reads_.back().round);
  }
  pending_broadcast_ = false;
  pending_read_broadcast_ = false;

  Ready r;
  HardState hs = hard_state();
  if (hs != persisted_hs_) r.hard_state = hs;
  r.entries = log_.unstable();
  r.messages = std::move(msgs_);
  msgs_.clear();
  uint64_t upto = std::min(commit_, log_.stable_index());
  for (uint64_t i = applied_ + 1; i <= upto; ++i) r.committed.push_back(log_.at(i));
  r.read_states = std::move(read_states_);
  read_states_.clear();
  r.dropped_reads = std::move(dropped_reads_);
  dropped_reads_.clear();
  r.snapshot_chunks = std::move(staged_chunks_);
  staged_chunks_.clear();
  r.install_snapshot = install_;
  install_.reset();
  return r;
}

void Raft::advance(const Ready& r) {
  if (r.hard_state) persisted_hs_ = *r.hard_state;
  if (!r.committed.empty()) applied_ = r.committed.back().index;
  if (!r.entries.empty()) {
    const Entry& last = r.entries.back();
    log_.stable_to(last.index, last.term);
    if (role_ == Role::kLeader && maybe_commit()) pending_broadcast_ = true;
  }
}

// ---- compaction and snapshots ---------------------------------------------

void Raft::compact(uint64_t index) {
  log_.compact_to(std::min(index, applied_));
  uint64_t base = log_.base_index();
  base_config_ = membership_at(base);
  configs_.erase(configs_.begin(), configs_.upper_bound(base));
}

void Raft::restore(uint64_t index, uint64_t term, Membership config) {
  if (index <= commit_) return;  // we already have everything it holds
  log_.reset_to_snapshot(index, term);
  base_config_ = std::move(config);
  configs_.clear();
  on_config_change();
  commit_ = applied_ = index;
  // Acknowledgements of entries the reset just discarded must not leave.
  drop_unsent_acks_from(index + 1);
  persisted_hs_ = hard_state();
  if (!leader_.empty()) send(Message{.type = MsgType::kAppendResp, .to = leader_, .index = index});
}

// Chunks are accepted only in order, within one transfer, from the leader
// of the current term (step() has already refused older terms and made us
// its follower). Each accepted chunk is staged by the driver before the
// Ready's messages go out, so the acknowledgement follows the data.
void Raft::handle_snapshot_chunk(const Message& m) {
  auto refuse = [&] {
    send(Message{
        .type = MsgType::kSnapshotResp, .to = m.from, .reject = true, .context = m.context});
  };
  if (m.context == 0) {
    incoming_.reset();
    if (m.index <= commit_) {
      // We already have everything it holds: say how far we are instead.
      refuse();
      send(Message{.type = MsgType::kAppendResp, .to = m.from, .index = commit_});
      return;
    }
    std::optional<Membership> config = Membership::decode(m.config);
    if (!config) return refuse();
    incoming_ = Incoming{m.from, m.term, m.index, m.log_term, 0, std::move(*config)};
  }
  if (!incoming_ || incoming_->from != m.from || incoming_->term != m.term ||
      incoming_->index != m.index || incoming_->log_term != m.log_term) {
    return refuse();
  }
  if (m.context < incoming_->next_seq) return;  // a duplicate, already acknowledged
  if (m.context > incoming_->next_seq) {
    incoming_.reset();
    return refuse();
  }
  staged_chunks_.push_back(SnapshotChunk{m.from, m.term, m.index, m.log_term, m.context, m.last,
                                         m.data, m.context == 0 ? m.config : std::string()});
  ++incoming_->next_seq;
  send(Message{.type = MsgType::kSnapshotResp, .to = m.from, .context = m.context});
  if (!m.last) return;
  Membership incoming_config = std::move(incoming_->config);
  incoming_.reset();
  if (m.index <= commit_) {
    // Appends overtook the transfer; the staged copy is not needed.
    send(Message{.type = MsgType::kAppendResp, .to = m.from, .index = commit_});
    return;
  }
  if (log_.term_at(m.index) == m.log_term) {
    // Our log already holds the snapshot's last entry, so by log matching
    // everything before it too: keep the log (and what follows it), and
    // just learn that it is committed (Raft Figure 13, step 6).
    commit_ = m.index;
    after_commit();
    send(Message{.type = MsgType::kAppendResp, .to = m.from, .index = m.index});
    return;
  }
  Membership config = std::move(incoming_config);
  restore(m.index, m.log_term, std::move(config));
  install_ = Ready::Install{m.index, m.log_term, persisted_hs_};
}

void Raft::handle_snapshot_resp(const Message& m) {
  // Progress on a transfer is the driver's to pace; a refusal ends it.
  if (m.reject) report_snapshot(m.from, false);
}

void Raft::report_snapshot(const NodeId& to, bool ok) {
  auto it = progress_.find(to);
  if (role_ != Role::kLeader || it == progress_.end()) return;
  Progress& pr = it->second;
  if (pr.state != Progress::State::kSnapshot) return;
  // Probe from the snapshot point on success (the follower's own answer
  // may still be on its way); on failure, probing finds the gap again and
  // a new snapshot is asked for.
  if (ok) pr.match = std::max(pr.match, pr.pending_snapshot);
  pr.become_probe();
}

}  // namespace raftkv::raft

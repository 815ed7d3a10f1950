#include "server/core.h"

#include <fmt/format.h>

#include <algorithm>
#include <random>

#include "kv/command.h"
#include "server/chunk_codec.h"

namespace raftkv::server {

using raft::MsgType;
using raft::Role;

namespace {

// Reads are served from the applied map after ReadIndex, not logged.
bool is_read_only(ClientRequest::Op op) {
  return op == ClientRequest::Op::kRead || op == ClientRequest::Op::kExists;
}

ClientReply to_reply(kv::Result r) {
  switch (r.code) {
    case kv::Result::Code::kOk:
      return ClientReply{ReplyCode::kOk, std::move(r.current), {}, r.number};
    case kv::Result::Code::kKeyDoesNotExist:
      return error_reply(ReplyCode::kKeyDoesNotExist, "key does not exist");
    case kv::Result::Code::kPreconditionFailed:
      return ClientReply{ReplyCode::kPreconditionFailed, std::move(r.current),
                         "expected a different value"};
    case kv::Result::Code::kNotAnInteger:
      return error_reply(ReplyCode::kNotAnInteger, "value is not an integer or out of range");
    case kv::Result::Code::kInvalidCommand:
      break;
  }
  return error_reply(ReplyCode::kIndefinite, "command could not be decoded");
}

}  // namespace

Core::Core(CoreOptions options, raft::NodeId id, std::vector<raft::NodeId> known,
           storage::LogStorage& log, storage::KvStorage& kv, Outbox& out, Millis now)
    : opts_(std::move(options)),
      id_(std::move(id)),
      known_(std::move(known)),
      log_(log),
      kv_(kv),
      out_(out),
      now_(now) {
  // A follower's forward ids must not repeat across its restarts, or the
  // leader's duplicate filter would drop a new request as an old one.
  std::mt19937_64 rng(opts_.seed ^ 0x6a09e667f3bcc909ULL);
  next_forward_id_ = rng() >> 1;
  if (!opts_.join) bootstrap_ = opts_.initial_members.empty() ? known_ : opts_.initial_members;
  recover();
}

Core::~Core() = default;

// The KV store's applied point names an entry the log holds with another
// term: only an install of a newer leader's snapshot can do that.
bool Core::kv_holds_other_entry(const raft::Restored& r) const {
  if (r.applied <= r.base_index || r.applied > r.base_index + r.entries.size()) return false;
  if (kv_.applied_term() == 0) return false;  // a store that never recorded terms
  return r.entries[r.applied - r.base_index - 1].term != kv_.applied_term();
}

void Core::recover() {
  // The identity names the bootstrap voters (none for a joining server), so
  // a data dir is never reused under another cluster's founding list, and a
  // joining server restarted without --join does not found a cluster.
  storage::ClusterIdentity identity{id_, bootstrap_};
  auto describe = [](const std::vector<std::string>& ids) {
    return ids.empty() ? std::string("joined an existing cluster")
                       : fmt::format("bootstrapped with [{}]", fmt::join(ids, ","));
  };
  if (auto stored = log_.identity()) {
    if (!(*stored == identity)) {
      throw storage::StorageError(
          fmt::format("data belongs to node {} that {}, not node {} that {}", stored->node_id,
                      describe(stored->node_ids), id_, describe(bootstrap_)));
    }
  } else {
    log_.set_identity(identity);
  }
  sm_ = std::make_unique<kv::StateMachine>(kv_);
  raft::Restored restored = log_.load();
  restored.applied = kv_.applied_index();
  uint64_t last = restored.base_index + restored.entries.size();
  if (restored.applied > last || kv_holds_other_entry(restored)) {
    // A snapshot was installed into the KV store, and the crash came before
    // the log was reset to it: finish the job. (The log may even reach the
    // snapshot's index, with another term there: a deposed leader's entry.)
    raft::HardState hs = restored.hard_state;
    hs.commit = restored.applied;
    log_.reset_to_snapshot(restored.applied, kv_.applied_term(), hs);
    restored = log_.load();
    restored.applied = kv_.applied_index();
    last = restored.base_index;
  }
  if (restored.applied < restored.base_index) {
    throw storage::StorageError(fmt::format(
        "kv store applied index {} is behind the log's compaction point {}: entries are missing",
        restored.applied, restored.base_index));
  }
  if (std::optional<std::string> blob = kv_.membership()) {
    restored.membership = raft::Membership::decode(*blob);
    if (!restored.membership) throw storage::StorageError("kv store: malformed membership record");
  }
  raft::Config cfg;
  cfg.id = id_;
  cfg.voters = bootstrap_;
  cfg.max_promote_lag = opts_.max_promote_lag;
  cfg.bugs = opts_.raft_bugs;
  cfg.heartbeat_tick = std::max(1, opts_.heartbeat_ms / opts_.tick_ms);
  cfg.election_tick = std::max(cfg.heartbeat_tick + 1, opts_.election_timeout_ms / opts_.tick_ms);
  cfg.seed = opts_.seed ^ std::hash<std::string>{}(id_);
  cfg.max_bytes_per_msg = opts_.max_append_bytes;
  cfg.max_inflight_msgs = opts_.max_inflight;
  cfg.max_entries_per_msg = opts_.max_entries_per_msg;
  cfg.pre_vote = opts_.pre_vote;
  cfg.check_quorum = opts_.check_quorum;
  opts_.log(fmt::format("restored term {} commit {} applied {} log {}..{}",
                        restored.hard_state.term, restored.hard_state.commit, restored.applied,
                        restored.base_index + 1, last));
  try {
    raft_ = std::make_unique<raft::Raft>(cfg, std::move(restored));
  } catch (const std::invalid_argument& e) {
    throw storage::StorageError(e.what());
  }
  seen_config_index_ = raft_->membership_index();
  seen_config_ = raft_->membership().encode();
  was_in_configuration_ = in_configuration();
  opts_.log(fmt::format("configuration: {}", raft::to_string(raft_->membership())));
  // A cluster of one needs no election timeout to know it is the leader.
  if (raft_->membership().voters() == std::vector<raft::NodeId>{id_}) raft_->campaign();
}

bool Core::is_member(const raft::NodeId& id) const {
  return std::find(known_.begin(), known_.end(), id) != known_.end() ||
         raft_->membership().contains(id) || raft_->progress().contains(id);
}

bool Core::in_configuration() const {
  return raft_->membership().contains(id_);
}

void Core::reply(const ReplyTo& to, ClientReply r) {
  if (!to.via.empty()) {
    out_.send(to.via, ForwardReply{to.forward_id, std::move(r)});
  } else {
    out_.reply(to.request, std::move(r));
  }
}

// ---- client requests ------------------------------------------------------------

void Core::client_request(RequestId id, ClientRequest request, Millis now) {
  now_ = std::max(now_, now);
  handle_client(ReplyTo{id, {}, 0}, std::move(request));
}

void Core::handle_client(const ReplyTo& to, ClientRequest request) {
  bool mutating = !is_read_only(request.op);
  if (!in_configuration()) {
    // Removed, or not added yet: this server takes no part (and knows of no
    // leader it could trust), so nothing happens and the error is definite.
    return reply(
        to, error_reply(ReplyCode::kUnavailable,
                        "this server is not a member of the cluster (removed, or not yet added)"));
  }
  if (raft_->role() != Role::kLeader) {
    const raft::NodeId& leader = raft_->leader();
    if (!to.via.empty() || leader.empty() || leader == id_ || !is_member(leader)) {
      // Nothing was proposed, so this failure is definite.
      return reply(to, error_reply(ReplyCode::kUnavailable,
                                   leader.empty()
                                       ? "no leader known; try again"
                                       : fmt::format("not the leader; the leader is {}", leader)));
    }
    uint64_t fid = ++next_forward_id_;
    forwards_[fid] = PendingForward{to.request, leader, mutating, now_ + opts_.forward_timeout_ms};
    out_.send(leader, ForwardRequest{fid, std::move(request)});
    return;
  }
  Millis deadline = now_ + 2 * static_cast<Millis>(opts_.forward_timeout_ms);
  if (!mutating && opts_.read_mode == ReadMode::kIndex) {
    uint64_t ctx = ++next_read_ctx_;
    raft_->read_index(ctx);
    reads_[ctx] = PendingRead{to, std::move(request), deadline};
    return;
  }
  auto p = raft_->propose(kv::encode(request));
  if (!p) {
    return reply(
        to, error_reply(ReplyCode::kUnavailable,
                        fmt::format("leadership is moving to {}; try again", raft_->transferee())));
  }
  ++counters_.proposals;
  proposals_[p->index] = PendingProposal{p->term, to, mutating, deadline};
}

void Core::handle_forward(const raft::NodeId& from, ForwardRequest f) {
  std::set<uint64_t>& seen = forwards_seen_[from];
  if (!seen.insert(f.id).second) return;  // a duplicate: the first copy answers
  if (seen.size() > 4096) seen.erase(seen.begin());
  handle_client(ReplyTo{0, from, f.id}, std::move(f.request));
}

void Core::handle_forward_reply(const raft::NodeId& from, ForwardReply r) {
  auto it = forwards_.find(r.id);
  // Only the server we forwarded to may answer (anything else is stale or
  // forged); a reply after the deadline was already answered for.
  if (it == forwards_.end() || it->second.leader != from) return;
  RequestId request = it->second.request;
  forwards_.erase(it);
  out_.reply(request, std::move(r.reply));
}

// ---- peer messages ---------------------------------------------------------------

void Core::peer_message(const raft::NodeId& from, PeerMessage m, Millis now) {
  now_ = std::max(now_, now);
  if (from == id_ || !is_member(from)) {
    if (counters_.strangers_dropped++ % 1000 == 0) {
      opts_.log(
          fmt::format("dropping a message from {}, which is neither a known server [{}] nor a "
                      "member ({} so far)",
                      from, fmt::join(known_, ","), counters_.strangers_dropped));
    }
    return;
  }
  if (auto* rm = std::get_if<raft::Message>(&m)) {
    rm->from = from;
    rm->to = id_;
    return handle_raft(*rm);
  }
  if (auto* f = std::get_if<ForwardRequest>(&m)) return handle_forward(from, std::move(*f));
  handle_forward_reply(from, std::move(std::get<ForwardReply>(m)));
}

void Core::handle_raft(const raft::Message& m) {
  if (m.type == MsgType::kSnapshot) return;  // a request to our own driver, never from a peer
  if (m.type == MsgType::kSnapshotChunk && !decode_pairs(m.data)) {
    opts_.log(fmt::format("dropping a malformed snapshot chunk from {}", m.from));
    return;
  }
  raft_->step(m);
  if (m.type == MsgType::kSnapshotResp) on_snapshot_ack(m);
}

// ---- time ---------------------------------------------------------------------

void Core::tick(Millis now) {
  now_ = std::max(now_, now);
  raft_->tick();
  if (raft_->role() != Role::kLeader && !senders_.empty()) senders_.clear();
  expire(now_);
  finish_transfers();
}

// A forwarded request that will get no answer from its leader.
void Core::give_up_forward(const PendingForward& f, std::string_view why) {
  if (f.mutating) {
    // The leader may have proposed it: the outcome is unknown.
    out_.reply(f.request,
               error_reply(ReplyCode::kIndefinite, fmt::format("{}: outcome unknown", why)));
  } else {
    out_.reply(f.request, error_reply(ReplyCode::kUnavailable, std::string(why)));
  }
}

void Core::expire(Millis now) {
  for (auto it = forwards_.begin(); it != forwards_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    give_up_forward(it->second, "forwarded to the leader, no answer in time");
    it = forwards_.erase(it);
  }
  // Normally a proposal ends when its index is applied, whoever leads. One
  // that lingers (this node is cut off) is given up on, indefinitely: it
  // may still commit.
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    if (!it->second.mutating) {
      reply(it->second.to, error_reply(ReplyCode::kUnavailable, "read timed out"));
    } else {
      reply(it->second.to,
            error_reply(ReplyCode::kIndefinite, "not committed in time: outcome unknown"));
    }
    it = proposals_.erase(it);
  }
  for (auto it = reads_.begin(); it != reads_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    reply(it->second.to, error_reply(ReplyCode::kUnavailable, "read not confirmed in time"));
    it = reads_.erase(it);
  }
  for (auto it = senders_.begin(); it != senders_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    opts_.log(fmt::format("snapshot to {} timed out", it->first));
    raft_->report_snapshot(it->first, false);
    it = senders_.erase(it);
  }
}

// ---- the Ready loop ------------------------------------------------------------------

void Core::drive() {
  while (raft_->has_ready()) {
    raft::Ready rd = raft_->ready();
    if (opts_.observer) opts_.observer->on_ready(*raft_, rd);
    // A follower stages snapshot chunks, and installs a finished snapshot,
    // before anything in the Ready that depends on them is sent.
    stage_snapshot(rd);
    // Normally everything is durable before any message that depends on it
    // leaves. A leader whose term and vote are already on disk may send
    // first (Raft thesis 10.2.1): its appends carry entries it has not
    // synced yet, but it counts itself towards commit only once they are,
    // so its fsync overlaps the followers' instead of preceding them.
    const raft::HardState& on_disk = log_.hard_state();
    bool send_first =
        raft_->role() == Role::kLeader && (!rd.hard_state || (rd.hard_state->term == on_disk.term &&
                                                              rd.hard_state->vote == on_disk.vote));
    if (send_first) send_messages(rd.messages);
    // Committed entries this server already holds durably (and that this
    // Ready does not rewrite) are applied, and answered, before its fsync:
    // under load a leader's Ready carries both new entries and commits, and
    // the replies need not wait for the new entries' disk write.
    // (Read states first: a read is served right when its index is applied,
    // before later entries of the same batch.)
    for (const raft::ReadState& rs : rd.read_states) ready_reads_.emplace(rs.index, rs.context);
    size_t early = durable_prefix(rd);
    apply_committed(std::span(rd.committed).first(early));
    serve_reads();
    out_.flush();
    log_.save(rd.hard_state, rd.entries);
    if (!send_first) send_messages(rd.messages);
    apply_committed(std::span(rd.committed).subspan(early));
    for (uint64_t ctx : rd.dropped_reads) {
      auto it = reads_.find(ctx);
      if (it == reads_.end()) continue;
      reply(it->second.to,
            error_reply(ReplyCode::kUnavailable, "leadership lost before the read was confirmed"));
      reads_.erase(it);
    }
    raft_->advance(rd);
    serve_reads();
    if (!rd.committed.empty()) maybe_compact();
  }
  note_config_change();
  finish_transfers();
  abandon_forwards_to_former_leaders();
}

// A request forwarded to a leader that this server now knows was replaced
// (a newer term has another leader, maybe this server) is answered now
// rather than at its deadline: a crashed or cut-off leader never answers,
// and the client should not wait seconds to learn that. The old leader
// may still have committed it, so a write's answer is indefinite; a late
// reply from that leader finds nothing to answer and is dropped.
void Core::abandon_forwards_to_former_leaders() {
  const raft::NodeId& leader = raft_->leader();
  if (leader.empty()) return;  // an election is running: the old leader may yet answer
  for (auto it = forwards_.begin(); it != forwards_.end();) {
    if (it->second.leader == leader) {
      ++it;
      continue;
    }
    give_up_forward(it->second, fmt::format("forwarded to {}, which is no longer the leader",
                                            it->second.leader));
    it = forwards_.erase(it);
  }
}

void Core::send_messages(std::vector<raft::Message>& msgs) {
  for (raft::Message& m : msgs) {
    if (m.type == MsgType::kSnapshot) {
      // Raft asks for a snapshot to be streamed; the data is the KV store.
      // Only while still the leader of the term that asked: a vote of a
      // newer term stepped since would stamp the chunks with a term this
      // node does not lead (simulation seed 182).
      if (raft_->role() == Role::kLeader && m.term == raft_->term()) start_snapshot(m.to);
      continue;
    }
    raft::NodeId to = m.to;
    out_.send(to, std::move(m));
  }
}

void Core::stage_snapshot(const raft::Ready& rd) {
  for (const raft::SnapshotChunk& c : rd.snapshot_chunks) {
    if (c.seq == 0) {
      receiving_.reset();
      receiving_ = kv_.begin_snapshot(c.index, c.term, c.config);
    }
    if (!receiving_) {
      throw storage::StorageError("snapshot chunk staged with no transfer open");
    }
    // Checked before the chunk was stepped, so it decodes.
    receiving_->add(*decode_pairs(c.data));
  }
  if (!rd.install_snapshot) return;
  const auto& in = *rd.install_snapshot;
  if (!receiving_) throw storage::StorageError("snapshot install with no transfer open");
  // The KV store first; if we crash before the log is reset, start-up sees
  // applied > last index and finishes the reset.
  receiving_->commit();
  receiving_.reset();
  log_.reset_to_snapshot(in.index, in.term, in.hard_state);
  ready_reads_.clear();
  ++counters_.snapshots_installed;
  opts_.log(fmt::format("installed snapshot at index {} term {}", in.index, in.term));
}

// How many of rd.committed are already in the durable log, unchanged by
// rd.entries: applying those first keeps the KV store within the durable log,
// as applying after the save does.
size_t Core::durable_prefix(const raft::Ready& rd) const {
  if (rd.install_snapshot) return 0;
  uint64_t durable = log_.last_index();
  if (!rd.entries.empty()) durable = std::min(durable, rd.entries.front().index - 1);
  size_t n = 0;
  while (n < rd.committed.size() && rd.committed[n].index <= durable) ++n;
  return n;
}

void Core::apply_committed(std::span<const raft::Entry> entries) {
  // Reads waiting at an index inside this batch are served right when that
  // index is applied, so a client that pipelines write, read, write sees
  // its read between the two writes.
  size_t begin = 0;
  while (begin < entries.size()) {
    size_t end = entries.size();
    if (!ready_reads_.empty()) {
      uint64_t next_read = ready_reads_.begin()->first;
      if (next_read >= entries[begin].index && next_read < entries.back().index) {
        end = begin + (next_read - entries[begin].index) + 1;
      }
    }
    apply_chunk(std::span(entries).subspan(begin, end - begin));
    serve_reads();
    begin = end;
  }
}

void Core::apply_chunk(std::span<const raft::Entry> entries) {
  if (opts_.observer) opts_.observer->on_apply(entries);
  std::vector<kv::Result> results = sm_->apply_range(entries);
  for (size_t i = 0; i < entries.size(); ++i) {
    auto it = proposals_.find(entries[i].index);
    if (it == proposals_.end()) continue;
    PendingProposal p = std::move(it->second);
    proposals_.erase(it);
    if (p.term != entries[i].term) {
      // Another leader's entry won this index, so ours can never commit.
      reply(p.to, error_reply(ReplyCode::kUnavailable,
                              "leadership changed; the request was not applied"));
      continue;
    }
    reply(p.to, to_reply(std::move(results[i])));
  }
}

void Core::serve_reads() {
  uint64_t applied = sm_->applied_index();
  while (!ready_reads_.empty() && ready_reads_.begin()->first <= applied) {
    uint64_t ctx = ready_reads_.begin()->second;
    ready_reads_.erase(ready_reads_.begin());
    auto it = reads_.find(ctx);
    if (it == reads_.end()) continue;
    reply(it->second.to, read_now(it->second.request));
    reads_.erase(it);
  }
}

ClientReply Core::read_now(const ClientRequest& r) {
  if (r.op == ClientRequest::Op::kExists) {
    return ClientReply{ReplyCode::kOk, std::nullopt, {}, sm_->count_existing(r.keys)};
  }
  std::optional<std::string> v = sm_->read(r.key);
  if (!v) return error_reply(ReplyCode::kKeyDoesNotExist, "key does not exist");
  return ClientReply{ReplyCode::kOk, std::move(v), {}};
}

// ---- compaction and snapshots ------------------------------------------------------

void Core::maybe_compact() {
  uint64_t applied = sm_->applied_index();
  const raft::RaftLog& log = raft_->log();
  uint64_t first = log.first_index();
  if (applied < first) return;
  bool by_count = applied - first + 1 > opts_.compact_threshold;
  bool by_bytes = log.bytes() > opts_.compact_bytes;
  if (!by_count && !by_bytes) return;
  uint64_t upto = applied;
  if (raft_->role() == Role::kLeader && log.bytes() <= 2 * opts_.compact_bytes) {
    // Keep what live followers still need, within the lag bound.
    for (const auto& [id, pr] : raft_->progress()) {
      if (pr.recent_active) upto = std::min(upto, pr.match);
    }
    if (applied > opts_.compact_max_lag) upto = std::max(upto, applied - opts_.compact_max_lag);
  }
  if (upto < first) return;
  auto term = log.term_at(upto);
  if (!term) return;
  // The KV store must hold everything the deleted entries did, durably.
  kv_.sync();
  log_.compact(upto, *term);
  raft_->compact(upto);
  ++counters_.compactions;
}

void Core::start_snapshot(const raft::NodeId& to) {
  SnapshotSender& s = senders_[to];
  s = SnapshotSender{kv_.read_snapshot(), 0, false, 0, {}, raft_->term()};
  s.config = raft_->membership_at(s.reader->index()).encode();
  opts_.log(fmt::format("sending snapshot at index {} to {}", s.reader->index(), to));
  ++counters_.snapshots_sent;
  send_snapshot_chunk(to, s);
}

void Core::send_snapshot_chunk(const raft::NodeId& to, SnapshotSender& s) {
  raft::Message m;
  m.type = MsgType::kSnapshotChunk;
  m.from = id_;
  m.to = to;
  m.term = s.term;  // the term the transfer began in
  m.index = s.reader->index();
  m.log_term = s.reader->term();
  m.context = s.next_seq++;
  if (m.context == 0) m.config = s.config;
  m.data = encode_pairs(s.reader->next_chunk(opts_.snapshot_chunk_bytes));
  m.last = s.reader->done();
  s.last_sent = m.last;
  s.deadline = now_ + opts_.snapshot_timeout_ms;
  out_.send(to, std::move(m));
}

void Core::on_snapshot_ack(const raft::Message& m) {
  auto it = senders_.find(m.from);
  if (it == senders_.end()) return;
  if (raft_->role() != Role::kLeader || m.term != raft_->term() ||
      it->second.term != raft_->term()) {
    senders_.erase(it);
    return;
  }
  if (m.reject) {
    senders_.erase(it);  // Raft has gone back to probing
    return;
  }
  SnapshotSender& s = it->second;
  if (m.context + 1 != s.next_seq) return;  // a duplicate or stale ack
  if (s.last_sent) {
    senders_.erase(it);
    raft_->report_snapshot(m.from, true);
    return;
  }
  send_snapshot_chunk(m.from, s);
}

size_t Core::pending() const {
  return proposals_.size() + reads_.size() + forwards_.size();
}

std::string Core::stats() const {
  return fmt::format(
      "role={} term={} commit={} applied={} first={} last={} syncs={} synced_entries={} "
      "pending={} compactions={} snapshots_sent={} snapshots_installed={}",
      raft::to_string(raft_->role()), raft_->term(), raft_->commit_index(), raft_->applied_index(),
      raft_->log().first_index(), raft_->log().last_index(), log_.syncs(), log_.synced_entries(),
      pending(), counters_.compactions, counters_.snapshots_sent, counters_.snapshots_installed);
}

}  // namespace raftkv::server

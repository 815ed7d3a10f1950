#include "maelstrom/node.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "kv/command.h"
#include "maelstrom/raft_codec.h"

namespace raftkv::maelstrom {

namespace fs = std::filesystem;

namespace {

// Canonical JSON text of a key taken from a request. Only objects (whose
// member order may differ) need the round trip through a sorted json.
std::string canonical(const Json& key) {
  if (!key.is_structured()) return key.dump();
  return nlohmann::json::parse(key.dump()).dump();
}

bool is_client_op(const std::string& t) {
  return t == "read" || t == "write" || t == "cas";
}

}  // namespace

Node::Node(NodeOptions options, std::function<void(std::string)> out, std::function<void()> flush)
    : opts_(std::move(options)), out_(std::move(out)), flush_(std::move(flush)) {}

Node::~Node() = default;

void Node::send(const std::string& dest, Json body) {
  out_(serialize(Message{id_, dest, std::move(body)}));
}

void Node::reply(const ReplyTo& to, Json payload) {
  std::string type = payload["type"].get<std::string>();
  if (!to.via.empty()) {
    Json body = make_body("fwd_ok", to.via_msg_id, next_msg_id_++);
    body["reply"] = std::move(payload);
    send(to.via, std::move(body));
    return;
  }
  Json body = make_body(type, to.msg_id, next_msg_id_++);
  for (auto& [k, v] : payload.items()) {
    if (k != "type") body[k] = v;
  }
  send(to.client, std::move(body));
}

void Node::reply_error(const ReplyTo& to, ErrorCode code, std::string_view text) {
  Json payload = Json::object();
  payload["type"] = "error";
  payload["code"] = static_cast<int>(code);
  payload["text"] = std::string(text);
  reply(to, std::move(payload));
}

void Node::reply_error_as(const std::string& addressee, const ReplyTo& to, ErrorCode code,
                          std::string_view text) {
  // Before init we have no id of our own: answer as whoever the message
  // was addressed to.
  bool borrowed = id_.empty();
  if (borrowed) id_ = addressee;
  reply_error(to, code, text);
  if (borrowed) id_.clear();
}

void Node::fail_stop(const std::string& reason) {
  if (fatal_) return;
  fatal_ = reason;
  std::cerr << "raftkv " << (id_.empty() ? "?" : id_) << ": fatal: " << reason << std::endl;
}

// ---- input ------------------------------------------------------------------

void Node::handle_line(std::string_view line) {
  if (fatal_) return;
  ParseResult r = parse(line);
  if (!r.message) {
    std::string shown(line.substr(0, 200));
    std::cerr << "raftkv: malformed message (" << r.error << "): " << shown
              << (line.size() > 200 ? "..." : "") << std::endl;
    if (r.msg_id && !r.src.empty()) {
      reply_error_as(r.dest, ReplyTo{r.src, *r.msg_id, {}, 0}, ErrorCode::kMalformedRequest,
                     r.error);
    }
    return;
  }
  try {
    handle(*r.message);
  } catch (const storage::StorageError& e) {
    fail_stop(e.what());
  }
}

void Node::handle(const Message& m) {
  const std::string type = m.type();
  std::optional<int64_t> msg_id = m.msg_id();
  if (m.body.contains("msg_id") && !msg_id) {
    std::cerr << "raftkv: ignoring message from " << m.src
              << " whose msg_id is not an integer in the int64 range" << std::endl;
    return;
  }
  ReplyTo to{m.src, msg_id.value_or(0), {}, 0};
  if (type == "init") return handle_init(m);
  if (!raft_) {
    std::cerr << "raftkv: " << type << " from " << m.src << " before init" << std::endl;
    if (msg_id) {
      reply_error_as(m.dest, to, ErrorCode::kMalformedRequest,
                     fmt::format("node not initialised: send init before {}", type));
    }
    return;
  }
  if (type == "raft") {
    std::string error;
    auto rm = decode_raft(m, &error);
    if (!rm) {
      std::cerr << "raftkv: bad raft message from " << m.src << ": " << error << std::endl;
      return;
    }
    raft_->step(*rm);
    return;
  }
  if (type == "fwd") return handle_forward(m);
  if (type == "status" && msg_id) {
    // Operator/test introspection: who leads, and how far this node is.
    Json body = make_body("status_ok", *msg_id, next_msg_id_++);
    body["role"] = raft::to_string(raft_->role());
    body["term"] = raft_->term();
    body["leader"] = raft_->leader();
    body["commit"] = raft_->commit_index();
    body["applied"] = raft_->applied_index();
    body["last_index"] = raft_->log().last_index();
    return send(m.src, std::move(body));
  }
  if (type == "fwd_ok") return handle_forward_reply(m);
  if (type == "snap") return handle_snapshot_chunk(m);
  if (type == "snap_ack") return handle_snapshot_ack(m);
  if (is_client_op(type)) {
    if (!msg_id) {
      std::cerr << "raftkv: dropping " << type << " without msg_id from " << m.src << std::endl;
      return;
    }
    return handle_client(m, to);
  }
  std::cerr << "raftkv: unknown message type \"" << type << "\" from " << m.src << std::endl;
  if (msg_id) {
    reply_error(to, ErrorCode::kNotSupported, fmt::format("unsupported message type: {}", type));
  }
}

void Node::handle_init(const Message& m) {
  ReplyTo to{m.src, m.msg_id().value_or(0), {}, 0};
  auto nid = m.body.find("node_id");
  auto nids = m.body.find("node_ids");
  bool ok = nid != m.body.end() && nid->is_string() && !nid->get<std::string>().empty() &&
            nids != m.body.end() && nids->is_array();
  std::vector<std::string> members;
  if (ok) {
    for (const Json& n : *nids) {
      if (!n.is_string())
        ok = false;
      else
        members.push_back(n.get<std::string>());
    }
    ok = ok && std::find(members.begin(), members.end(), nid->get<std::string>()) != members.end();
  }
  if (!ok) {
    std::cerr << "raftkv: malformed init: " << m.body.dump() << std::endl;
    if (m.msg_id()) {
      reply_error_as(m.dest, to, ErrorCode::kMalformedRequest,
                     "init needs a string node_id and node_ids, an array of strings including it");
    }
    return;
  }
  if (raft_) {
    // A repeated init is harmless if it says the same thing.
    if (nid->get<std::string>() == id_ && members == peers_) {
      Json body = make_body("init_ok", to.msg_id, next_msg_id_++);
      send(m.src, std::move(body));
    } else {
      reply_error(to, ErrorCode::kMalformedRequest, "already initialised as a different node");
    }
    return;
  }
  id_ = nid->get<std::string>();
  peers_ = members;

  fs::path dir = fs::path(opts_.data_dir) / id_;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    return fail_stop(fmt::format("cannot create data dir {}: {}", dir.string(), ec.message()));
  try {
    log_store_ = std::make_unique<storage::LogStore>((dir / "log").string());
    storage::ClusterIdentity identity{id_, members};
    if (auto stored = log_store_->identity()) {
      if (!(*stored == identity)) {
        return fail_stop(fmt::format(
            "data dir {} belongs to node {} of cluster [{}], not node {} of [{}]", dir.string(),
            stored->node_id, fmt::join(stored->node_ids, ","), id_, fmt::join(members, ",")));
      }
    } else {
      log_store_->set_identity(identity);
    }
    kv_store_ = std::make_unique<storage::KvStore>((dir / "kv").string());
    sm_ = std::make_unique<kv::StateMachine>(*kv_store_);
    raft::Restored restored = log_store_->load();
    restored.applied = kv_store_->applied_index();
    uint64_t last = restored.base_index + restored.entries.size();
    if (restored.applied > last) {
      // A snapshot was installed into the KV store, and the crash came
      // before the log was reset to it: finish the job.
      raft::HardState hs = restored.hard_state;
      hs.commit = restored.applied;
      log_store_->reset_to_snapshot(restored.applied, kv_store_->applied_term(), hs);
      restored = log_store_->load();
      restored.applied = kv_store_->applied_index();
      last = restored.base_index;
    }
    if (restored.applied < restored.base_index) {
      return fail_stop(fmt::format(
          "kv store applied index {} is behind the log's compaction point {}: entries are missing",
          restored.applied, restored.base_index));
    }
    raft::Config cfg;
    cfg.id = id_;
    cfg.voters = members;
    cfg.heartbeat_tick = std::max(1, opts_.heartbeat_ms / opts_.tick_ms);
    cfg.election_tick = std::max(cfg.heartbeat_tick + 1, opts_.election_timeout_ms / opts_.tick_ms);
    cfg.seed = opts_.seed ^ std::hash<std::string>{}(id_);
    cfg.max_bytes_per_msg = opts_.max_append_bytes;
    cfg.max_inflight_msgs = opts_.max_inflight;
    std::cerr << fmt::format(
                     "raftkv {}: data in {}; restored term {} commit {} applied {} log {}..{}", id_,
                     dir.string(), restored.hard_state.term, restored.hard_state.commit,
                     restored.applied, restored.base_index + 1, last)
              << std::endl;
    raft_ = std::make_unique<raft::Raft>(cfg, std::move(restored));
  } catch (const storage::StorageError& e) {
    return fail_stop(e.what());
  }
  // A cluster of one needs no election timeout to know it is the leader.
  if (members.size() == 1) raft_->campaign();
  Json body = make_body("init_ok", to.msg_id, next_msg_id_++);
  send(m.src, std::move(body));
}

// ---- client operations ------------------------------------------------------

void Node::handle_client(const Message& m, const ReplyTo& to) {
  const std::string type = m.type();
  const Json& b = m.body;
  auto need = [&](const char* field) {
    if (b.contains(field)) return true;
    reply_error(to, ErrorCode::kMalformedRequest, fmt::format("{} needs a \"{}\"", type, field));
    return false;
  };
  if (!need("key")) return;
  kv::Command cmd;
  cmd.key = canonical(b["key"]);
  if (type == "write") {
    if (!need("value")) return;
    cmd.op = kv::Command::Op::kWrite;
    cmd.value = b["value"].dump();
  } else if (type == "cas") {
    if (!need("from") || !need("to")) return;
    auto cine = b.find("create_if_not_exists");
    if (cine != b.end() && !cine->is_boolean()) {
      return reply_error(to, ErrorCode::kMalformedRequest,
                         "create_if_not_exists must be a boolean");
    }
    cmd.op = kv::Command::Op::kCas;
    cmd.from = b["from"].dump();
    cmd.value = b["to"].dump();
    cmd.create_if_not_exists = cine != b.end() && cine->get<bool>();
  } else {
    cmd.op = kv::Command::Op::kRead;
  }

  if (raft_->role() != raft::Role::kLeader) {
    const std::string& leader = raft_->leader();
    if (!to.via.empty() || leader.empty() || leader == id_) {
      // Nothing was proposed, so this failure is definite.
      return reply_error(to, ErrorCode::kTemporarilyUnavailable,
                         leader.empty() ? "no leader known; try again"
                                        : fmt::format("not the leader; the leader is {}", leader));
    }
    return forward(m, leader, type != "read");
  }

  if (type == "read" && opts_.read_mode == ReadMode::kIndex) {
    uint64_t ctx = ++next_read_ctx_;
    raft_->read_index(ctx);
    reads_[ctx] = PendingRead{to, cmd.key};
    return;
  }
  auto p = raft_->propose(kv::encode(cmd));
  proposals_[p->index] = PendingProposal{
      p->term, to, type, Clock::now() + std::chrono::milliseconds(2 * opts_.forward_timeout_ms)};
}

void Node::forward(const Message& m, const std::string& leader, bool mutating) {
  int64_t id = next_msg_id_++;
  Json body = make_body("fwd", std::nullopt, id);
  body["client"] = m.src;
  body["req"] = m.body;
  send(leader, std::move(body));
  forwards_[id] =
      PendingForward{m.src, *m.msg_id(), mutating,
                     Clock::now() + std::chrono::milliseconds(opts_.forward_timeout_ms)};
}

void Node::handle_forward(const Message& m) {
  auto req = m.body.find("req");
  auto client = m.body.find("client");
  auto id = m.msg_id();
  if (req == m.body.end() || !req->is_object() || client == m.body.end() || !client->is_string() ||
      !id) {
    std::cerr << "raftkv: malformed fwd from " << m.src << std::endl;
    return;
  }
  Message inner{client->get<std::string>(), id_, *req};
  ReplyTo to{inner.src, inner.msg_id().value_or(0), m.src, *id};
  if (!is_client_op(inner.type())) {
    return reply_error(to, ErrorCode::kNotSupported, "only read, write and cas are forwarded");
  }
  handle_client(inner, to);
}

void Node::handle_forward_reply(const Message& m) {
  auto irt = m.in_reply_to();
  auto rep = m.body.find("reply");
  if (!irt || rep == m.body.end() || !rep->is_object() || !rep->contains("type")) {
    std::cerr << "raftkv: malformed fwd_ok from " << m.src << std::endl;
    return;
  }
  auto it = forwards_.find(*irt);
  if (it == forwards_.end()) return;  // already timed out
  ReplyTo to{it->second.client, it->second.client_msg_id, {}, 0};
  forwards_.erase(it);
  reply(to, *rep);
}

void Node::expire_forwards() {
  auto now = Clock::now();
  for (auto it = forwards_.begin(); it != forwards_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    ReplyTo to{it->second.client, it->second.client_msg_id, {}, 0};
    if (it->second.mutating) {
      // The leader may have proposed it: the outcome is unknown.
      reply_error(to, ErrorCode::kCrash, "forwarded to the leader, no answer: outcome unknown");
    } else {
      reply_error(to, ErrorCode::kTemporarilyUnavailable, "read forwarded to the leader timed out");
    }
    it = forwards_.erase(it);
  }
}

// ---- Raft ---------------------------------------------------------------------

void Node::tick() {
  if (!raft_ || fatal_) return;
  raft_->tick();
  expire_forwards();
  expire_proposals();
  expire_snapshots();
}

void Node::expire_proposals() {
  // Normally a proposal ends when its index is applied, whoever leads. One
  // that lingers (this node is cut off) is given up on, indefinitely: it may
  // still commit.
  auto now = Clock::now();
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    if (it->second.kind == "read") {
      reply_error(it->second.to, ErrorCode::kTemporarilyUnavailable, "read timed out");
    } else {
      reply_error(it->second.to, ErrorCode::kCrash, "not committed in time: outcome unknown");
    }
    it = proposals_.erase(it);
  }
}

void Node::drive() {
  if (!raft_ || fatal_) return;
  try {
    while (raft_->has_ready()) {
      raft::Ready rd = raft_->ready();
      // Normally everything is durable before any message that depends on
      // it leaves. A leader whose term and vote are already on disk may send
      // first (Raft thesis §10.2.1): its appends carry entries it has not
      // synced yet, but it counts itself towards commit only once they are,
      // so its fsync overlaps the followers' instead of preceding them.
      const raft::HardState& on_disk = log_store_->hard_state();
      bool send_first = raft_->role() == raft::Role::kLeader &&
                        (!rd.hard_state || (rd.hard_state->term == on_disk.term &&
                                            rd.hard_state->vote == on_disk.vote));
      if (send_first) {
        send_raft(rd.messages);
        flush_();
      }
      log_store_->save(rd.hard_state, rd.entries);
      if (!send_first) send_raft(rd.messages);
      for (const raft::ReadState& rs : rd.read_states) ready_reads_.emplace(rs.index, rs.context);
      serve_reads();
      if (!rd.committed.empty()) on_committed(rd.committed);
      for (uint64_t ctx : rd.dropped_reads) {
        auto it = reads_.find(ctx);
        if (it == reads_.end()) continue;
        reply_error(it->second.to, ErrorCode::kTemporarilyUnavailable,
                    "leadership lost before the read was confirmed");
        reads_.erase(it);
      }
      raft_->advance(rd);
      serve_reads();
      if (!rd.committed.empty()) maybe_compact();
    }
  } catch (const storage::StorageError& e) {
    fail_stop(e.what());
  }
}

void Node::send_raft(const std::vector<raft::Message>& msgs) {
  for (const raft::Message& rm : msgs) {
    if (rm.type == raft::MsgType::kSnapshot) {
      // Raft asks for a snapshot to be sent; the data comes from the KV store.
      start_snapshot(rm.to);
      continue;
    }
    Json body = make_body("raft", std::nullopt, next_msg_id_++);
    encode_raft(rm, body);
    send(rm.to, std::move(body));
  }
}

void Node::on_committed(const std::vector<raft::Entry>& entries) {
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

void Node::apply_chunk(std::span<const raft::Entry> entries) {
  std::vector<kv::Result> results = sm_->apply_range(entries);
  for (size_t i = 0; i < entries.size(); ++i) {
    auto it = proposals_.find(entries[i].index);
    if (it == proposals_.end()) continue;
    PendingProposal p = std::move(it->second);
    proposals_.erase(it);
    if (p.term != entries[i].term) {
      // Another leader's entry won this index, so ours can never commit.
      reply_error(p.to, ErrorCode::kTemporarilyUnavailable,
                  "leadership changed; the request was not applied");
      continue;
    }
    const kv::Result& r = results[i];
    switch (r.code) {
      case kv::Result::Code::kOk: {
        if (p.kind == "read") {
          reply_read(p.to, r.current);
          break;
        }
        Json payload = Json::object();
        payload["type"] = p.kind + "_ok";
        reply(p.to, std::move(payload));
        break;
      }
      case kv::Result::Code::kKeyDoesNotExist:
        reply_error(p.to, ErrorCode::kKeyDoesNotExist, "key does not exist");
        break;
      case kv::Result::Code::kPreconditionFailed:
        reply_error(p.to, ErrorCode::kPreconditionFailed,
                    fmt::format("expected a different value; current value is {}", r.current));
        break;
      case kv::Result::Code::kInvalidCommand:
        reply_error(p.to, ErrorCode::kCrash, "command could not be decoded");
        break;
    }
  }
}

void Node::serve_reads() {
  uint64_t applied = sm_->applied_index();
  while (!ready_reads_.empty() && ready_reads_.begin()->first <= applied) {
    uint64_t ctx = ready_reads_.begin()->second;
    ready_reads_.erase(ready_reads_.begin());
    auto it = reads_.find(ctx);
    if (it == reads_.end()) continue;
    reply_read(it->second.to, sm_->read(it->second.key));
    reads_.erase(it);
  }
}

void Node::reply_read(const ReplyTo& to, const std::optional<std::string>& value) {
  if (!value) return reply_error(to, ErrorCode::kKeyDoesNotExist, "key does not exist");
  Json payload = Json::object();
  payload["type"] = "read_ok";
  payload["value"] = Json::parse(*value);
  reply(to, std::move(payload));
}

// ---- compaction and snapshots ---------------------------------------------

void Node::maybe_compact() {
  uint64_t applied = sm_->applied_index();
  uint64_t first = raft_->log().first_index();
  if (applied < first || applied - first + 1 <= opts_.compact_threshold) return;
  uint64_t upto = applied;
  if (raft_->role() == raft::Role::kLeader) {
    // Keep what live followers still need, within the lag bound.
    for (const auto& [id, pr] : raft_->progress()) {
      if (pr.recent_active) upto = std::min(upto, pr.match);
    }
    if (applied > opts_.compact_max_lag) upto = std::max(upto, applied - opts_.compact_max_lag);
  }
  if (upto < first) return;
  auto term = raft_->log().term_at(upto);
  if (!term) return;
  // The KV store must hold everything the deleted entries did, durably.
  kv_store_->sync();
  log_store_->compact(upto, *term);
  raft_->compact(upto);
  ++compactions_;
}

void Node::start_snapshot(const std::string& to) {
  snapshot_senders_.erase(to);
  auto it = snapshot_senders_
                .emplace(to, SnapshotSender(kv_store_->read_snapshot(), opts_.snapshot_chunk_bytes))
                .first;
  std::cerr << fmt::format("raftkv {}: sending snapshot at index {} to {}", id_, it->second.index(),
                           to)
            << std::endl;
  ++snapshots_sent_;
  send_snapshot_chunk(to);
}

void Node::send_snapshot_chunk(const std::string& to) {
  SnapshotSender& s = snapshot_senders_.at(to);
  Json body = make_body("snap", std::nullopt, next_msg_id_++);
  s.fill_next_chunk(raft_->term(), body);
  s.deadline = Clock::now() + std::chrono::milliseconds(opts_.snapshot_timeout_ms);
  send(to, std::move(body));
}

void Node::handle_snapshot_ack(const Message& m) {
  auto it = snapshot_senders_.find(m.src);
  auto seq = m.body.find("seq");
  auto ok = m.body.find("ok");
  if (it == snapshot_senders_.end() || seq == m.body.end() || !seq->is_number_unsigned() ||
      ok == m.body.end() || !ok->is_boolean()) {
    return;
  }
  if (!ok->get<bool>()) {
    snapshot_senders_.erase(it);
    raft_->report_snapshot(m.src, false);
    return;
  }
  if (!it->second.awaiting(seq->get<uint64_t>())) return;  // a duplicate
  if (it->second.finished()) {
    snapshot_senders_.erase(it);
    raft_->report_snapshot(m.src, true);
    return;
  }
  send_snapshot_chunk(m.src);
}

void Node::expire_snapshots() {
  auto now = Clock::now();
  for (auto it = snapshot_senders_.begin(); it != snapshot_senders_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    std::cerr << "raftkv " << id_ << ": snapshot to " << it->first << " timed out" << std::endl;
    raft_->report_snapshot(it->first, false);
    it = snapshot_senders_.erase(it);
  }
}

void Node::handle_snapshot_chunk(const Message& m) {
  const Json& b = m.body;
  auto u64 = [&](const char* f) -> std::optional<uint64_t> {
    auto it = b.find(f);
    if (it == b.end() || !it->is_number_unsigned()) return std::nullopt;
    return it->get<uint64_t>();
  };
  auto term = u64("term"), seq = u64("seq"), index = u64("index"), lt = u64("lt");
  auto last = b.find("last");
  auto kv = b.find("kv");
  std::optional<KvPairs> pairs;
  if (kv != b.end()) pairs = parse_chunk(*kv);
  if (!term || !seq || !index || !lt || last == b.end() || !last->is_boolean() || !pairs) {
    std::cerr << "raftkv: malformed snap from " << m.src << std::endl;
    return;
  }
  auto ack = [&](bool ok) {
    Json body = make_body("snap_ack", std::nullopt, next_msg_id_++);
    body["term"] = raft_->term();
    body["seq"] = *seq;
    body["ok"] = ok;
    send(m.src, std::move(body));
  };
  if (*term < raft_->term()) return ack(false);  // from a deposed leader
  if (*seq == 0) {
    snapshot_receiver_ = SnapshotReceiver{*term, *index, *lt, 0, {}};
  }
  SnapshotReceiver* r = snapshot_receiver_ ? &*snapshot_receiver_ : nullptr;
  if (!r || r->term != *term || r->index != *index || r->next_seq != *seq) return ack(false);
  r->next_seq++;
  std::move(pairs->begin(), pairs->end(), std::back_inserter(r->pairs));
  if (!last->get<bool>()) return ack(true);

  if (r->index > raft_->commit_index()) {
    // Atomic in the KV store first; if we crash before the log is reset,
    // start-up sees applied > last index and finishes the reset.
    kv_store_->install_snapshot(r->pairs, r->index, r->log_term);
    log_store_->reset_to_snapshot(r->index, r->log_term,
                                  raft::HardState{raft_->term(), raft_->vote(), r->index});
    raft_->restore(r->index, r->log_term);
    ready_reads_.clear();
    ++snapshots_installed_;
    std::cerr << fmt::format("raftkv {}: installed snapshot at index {} ({} keys)", id_, r->index,
                             r->pairs.size())
              << std::endl;
  }
  snapshot_receiver_.reset();
  ack(true);
}

size_t Node::pending() const {
  return proposals_.size() + reads_.size() + forwards_.size();
}

std::string Node::stats() const {
  if (!raft_) return "not initialised";
  return fmt::format(
      "role={} term={} commit={} applied={} first={} last={} syncs={} synced_entries={} "
      "pending={} compactions={} snapshots_sent={} snapshots_installed={}",
      raft::to_string(raft_->role()), raft_->term(), raft_->commit_index(), raft_->applied_index(),
      raft_->log().first_index(), raft_->log().last_index(), log_store_->syncs(),
      log_store_->synced_entries(), pending(), compactions_, snapshots_sent_, snapshots_installed_);
}

}  // namespace raftkv::maelstrom

#include "maelstrom/node.h"

#include <fmt/format.h>

#include <filesystem>
#include <iostream>

#include "maelstrom/json_text.h"
#include "maelstrom/raft_codec.h"

namespace raftkv::maelstrom {

namespace fs = std::filesystem;
using server::ClientReply;
using server::ClientRequest;
using server::ReplyCode;

namespace {

bool is_client_op(const std::string& t) {
  return t == "read" || t == "write" || t == "cas";
}

// Messages only servers send each other.
bool is_internal(const std::string& t) {
  return t == "raft" || t == "fwd" || t == "fwd_ok";
}

std::optional<ClientRequest::Op> op_of(std::string_view t) {
  if (t == "read") return ClientRequest::Op::kRead;
  if (t == "write") return ClientRequest::Op::kWrite;
  if (t == "cas") return ClientRequest::Op::kCas;
  return std::nullopt;
}

const char* op_name(ClientRequest::Op op) {
  switch (op) {
    case ClientRequest::Op::kRead:
      return "read";
    case ClientRequest::Op::kWrite:
      return "write";
    case ClientRequest::Op::kCas:
      return "cas";
    default:  // Redis-only commands never come through this adapter
      return "?";
  }
}

const std::string* string_field(const Json& b, const char* name) {
  auto it = b.find(name);
  return it != b.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

std::optional<uint64_t> u64_field(const Json& b, const char* name) {
  auto it = b.find(name);
  if (it == b.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

// Forwarded requests and their replies carry keys and values as canonical
// text inside JSON strings.
Json encode_forward(const server::ForwardRequest& f) {
  Json b = Json::object();
  b["id"] = f.id;
  b["op"] = op_name(f.request.op);
  b["key"] = f.request.key;
  if (f.request.op != ClientRequest::Op::kRead) b["value"] = f.request.value;
  if (f.request.op == ClientRequest::Op::kCas) {
    b["from"] = f.request.from;
    b["cine"] = f.request.create_if_not_exists;
  }
  return b;
}

std::optional<server::ForwardRequest> decode_forward(const Json& b) {
  auto id = u64_field(b, "id");
  const std::string* op = string_field(b, "op");
  const std::string* key = string_field(b, "key");
  if (!id || !op || !key || !op_of(*op)) return std::nullopt;
  server::ForwardRequest f;
  f.id = *id;
  f.request.op = *op_of(*op);
  f.request.key = *key;
  if (f.request.op != ClientRequest::Op::kRead) {
    const std::string* value = string_field(b, "value");
    if (!value) return std::nullopt;
    f.request.value = *value;
  }
  if (f.request.op == ClientRequest::Op::kCas) {
    const std::string* from = string_field(b, "from");
    auto cine = b.find("cine");
    if (!from || cine == b.end() || !cine->is_boolean()) return std::nullopt;
    f.request.from = *from;
    f.request.create_if_not_exists = cine->get<bool>();
  }
  return f;
}

Json encode_forward_reply(const server::ForwardReply& r) {
  Json b = Json::object();
  b["id"] = r.id;
  b["code"] = static_cast<int>(r.reply.code);
  if (r.reply.value) b["value"] = *r.reply.value;
  if (!r.reply.text.empty()) b["text"] = r.reply.text;
  return b;
}

std::optional<server::ForwardReply> decode_forward_reply(const Json& b) {
  auto id = u64_field(b, "id");
  auto code = u64_field(b, "code");
  if (!id || !code || *code > static_cast<uint64_t>(ReplyCode::kIndefinite)) return std::nullopt;
  server::ForwardReply r;
  r.id = *id;
  r.reply.code = static_cast<ReplyCode>(*code);
  if (b.contains("value")) {
    const std::string* v = string_field(b, "value");
    if (!v) return std::nullopt;
    r.reply.value = *v;
  }
  if (const std::string* t = string_field(b, "text")) r.reply.text = *t;
  return r;
}

}  // namespace

// The core's output, written as Maelstrom messages. Forwarded requests and
// their replies wait until the end of the turn (flush or drive) and leave as
// one message per destination: a follower under load forwards several client
// requests per turn, and every message costs a parse, a serialisation and a
// wake-up at both ends and a hop through the network (the runner).
class Node::Wire final : public server::Outbox {
 public:
  explicit Wire(Node& node) : node_(node) {}
  void send(const raft::NodeId& to, server::PeerMessage m) override {
    if (auto* rm = std::get_if<raft::Message>(&m)) {
      Json body = make_body("raft", std::nullopt, node_.next_msg_id_++);
      encode_raft(*rm, body);
      return node_.send(to, std::move(body));
    }
    if (auto* f = std::get_if<server::ForwardRequest>(&m)) {
      size_t bytes = f->request.key.size() + f->request.value.size() + f->request.from.size();
      queue(forwards_, to, encode_forward(*f), bytes);
    } else {
      const auto& r = std::get<server::ForwardReply>(m);
      size_t bytes = r.reply.text.size() + (r.reply.value ? r.reply.value->size() : 0);
      queue(replies_, to, encode_forward_reply(r), bytes);
    }
  }
  void reply(server::RequestId id, ClientReply r) override { node_.client_reply(id, std::move(r)); }
  void flush() override {
    send_batches();
    node_.flush_();
  }
  // One message per destination and type: a single payload as before, or
  // several in "batch".
  void send_batches() {
    for (Queue* q : {&forwards_, &replies_}) {
      for (auto& [to, b] : q->by_dest) emit(q->type, to, b);
      q->by_dest.clear();
    }
  }

 private:
  // Per payload: what its fields do not count (names, numbers, quotes).
  static constexpr size_t kPayloadOverhead = 64;
  struct Batch {
    std::vector<Json> payloads;
    size_t bytes = 0;
  };
  // One message type's batches, by destination.
  struct Queue {
    const char* type;
    std::map<raft::NodeId, Batch> by_dest{};
  };

  void queue(Queue& q, const raft::NodeId& to, Json payload, size_t bytes) {
    Batch& b = q.by_dest[to];
    bytes += kPayloadOverhead;
    if (!b.payloads.empty() && b.bytes + bytes > node_.opts_.forward_batch_bytes) {
      emit(q.type, to, b);
    }
    b.payloads.push_back(std::move(payload));
    b.bytes += bytes;
  }
  void emit(const char* type, const raft::NodeId& to, Batch& b) {
    if (b.payloads.empty()) return;
    Json body = make_body(type, std::nullopt, node_.next_msg_id_++);
    if (b.payloads.size() == 1) {
      for (auto& [k, v] : b.payloads.front().items()) body[k] = std::move(v);
    } else {
      body["batch"] = std::move(b.payloads);
    }
    node_.send(to, std::move(body));
    b = Batch{};
  }

  Node& node_;
  Queue forwards_{"fwd"};
  Queue replies_{"fwd_ok"};
};

Node::Node(NodeOptions options, std::function<void(std::string)> out, std::function<void()> flush)
    : opts_(std::move(options)),
      out_(std::move(out)),
      flush_(std::move(flush)),
      wire_(std::make_unique<Wire>(*this)) {}

Node::~Node() = default;

server::Millis Node::now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - epoch_).count();
}

void Node::send(const std::string& dest, Json body) {
  out_(serialize(Message{id_, dest, std::move(body)}));
}

void Node::reply_error(const std::string& client, int64_t msg_id, ErrorCode code,
                       std::string_view text) {
  Json body = make_error(msg_id, next_msg_id_++, code, text);
  send(client, std::move(body));
}

void Node::reply_error_as(const std::string& addressee, const std::string& client, int64_t msg_id,
                          ErrorCode code, std::string_view text) {
  // Before init we have no id of our own: answer as whoever the message
  // was addressed to.
  bool borrowed = id_.empty();
  if (borrowed) id_ = addressee;
  reply_error(client, msg_id, code, text);
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
    return handle_unparseable(r);
  }
  try {
    handle(*r.message);
  } catch (const storage::StorageError& e) {
    fail_stop(e.what());
  } catch (const std::exception& e) {
    // No library error in one message may take the node down.
    std::cerr << "raftkv: dropped a message that could not be handled: " << e.what() << std::endl;
  }
}

void Node::handle_unparseable(const ParseResult& r) {
  if (fatal_ || !r.msg_id || r.src.empty()) return;
  if (!id_.empty() && !r.dest.empty() && r.dest != id_) return;
  reply_error_as(r.dest, r.src, *r.msg_id, ErrorCode::kMalformedRequest, r.error);
}

void Node::handle(const Message& m) {
  const std::string type = m.type();
  std::optional<int64_t> msg_id = m.msg_id();
  if (m.body.contains("msg_id") && !msg_id) {
    std::cerr << "raftkv: ignoring message from " << m.src
              << " whose msg_id is not an integer in the int64 range" << std::endl;
    return;
  }
  if (type == "init") return handle_init(m);
  if (!core_) {
    std::cerr << "raftkv: " << type << " from " << m.src << " before init" << std::endl;
    if (msg_id) {
      reply_error_as(m.dest, m.src, *msg_id, ErrorCode::kMalformedRequest,
                     fmt::format("node not initialised: send init before {}", type));
    }
    return;
  }
  if (m.dest != id_) {
    std::cerr << "raftkv " << id_ << ": dropping a " << type << " addressed to " << m.dest
              << std::endl;
    return;
  }
  if (is_internal(type)) return handle_peer(m);
  if (type == "status" && msg_id) {
    // Operator/test introspection: who leads, and how far this node is.
    const raft::Raft& r = core_->raft();
    Json body = make_body("status_ok", *msg_id, next_msg_id_++);
    body["role"] = raft::to_string(r.role());
    body["term"] = r.term();
    body["leader"] = r.leader();
    body["commit"] = r.commit_index();
    body["applied"] = r.applied_index();
    body["last_index"] = r.log().last_index();
    return send(m.src, std::move(body));
  }
  if (is_admin_op(type)) {
    if (!msg_id) {
      std::cerr << "raftkv: dropping " << type << " without msg_id from " << m.src << std::endl;
      return;
    }
    return handle_admin(m, *msg_id);
  }
  if (is_client_op(type)) {
    if (!msg_id) {
      std::cerr << "raftkv: dropping " << type << " without msg_id from " << m.src << std::endl;
      return;
    }
    return handle_client(m, *msg_id);
  }
  std::cerr << "raftkv: unknown message type \"" << type << "\" from " << m.src << std::endl;
  if (msg_id) {
    reply_error(m.src, *msg_id, ErrorCode::kNotSupported,
                fmt::format("unsupported message type: {}", type));
  }
}

void Node::handle_init(const Message& m) {
  std::optional<int64_t> msg_id = m.msg_id();
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
    std::cerr << "raftkv: malformed init from " << m.src << std::endl;
    if (msg_id) {
      reply_error_as(m.dest, m.src, *msg_id, ErrorCode::kMalformedRequest,
                     "init needs a string node_id and node_ids, an array of strings including it");
    }
    return;
  }
  if (core_) {
    // A repeated init is harmless if it says the same thing.
    if (nid->get<std::string>() == id_ && members == members_) {
      send(m.src, make_body("init_ok", msg_id.value_or(0), next_msg_id_++));
    } else {
      reply_error(m.src, msg_id.value_or(0), ErrorCode::kMalformedRequest,
                  "already initialised as a different node");
    }
    return;
  }
  if (auto why = check_initial_members(nid->get<std::string>(), members)) {
    std::cerr << "raftkv: " << *why << std::endl;
    if (msg_id) reply_error_as(m.dest, m.src, *msg_id, ErrorCode::kMalformedRequest, *why);
    return;
  }
  id_ = nid->get<std::string>();
  members_ = members;

  fs::path dir = fs::path(opts_.data_dir) / id_;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    return fail_stop(fmt::format("cannot create data dir {}: {}", dir.string(), ec.message()));
  }
  server::CoreOptions co = opts_;  // the tuning part
  std::string who = id_;
  co.log = [who](const std::string& line) {
    std::cerr << "raftkv " << who << ": " << line << std::endl;
  };
  try {
    log_store_ = std::make_unique<storage::LogStore>((dir / "log").string());
    kv_store_ = std::make_unique<storage::KvStore>((dir / "kv").string());
    std::cerr << "raftkv " << id_ << ": data in " << dir.string() << std::endl;
    core_ =
        std::make_unique<server::Core>(co, id_, members, *log_store_, *kv_store_, *wire_, now());
  } catch (const storage::StorageError& e) {
    return fail_stop(fmt::format("data dir {}: {}", dir.string(), e.what()));
  }
  send(m.src, make_body("init_ok", msg_id.value_or(0), next_msg_id_++));
}

// ---- client operations ------------------------------------------------------

void Node::handle_client(const Message& m, int64_t msg_id) {
  const std::string type = m.type();
  const Json& b = m.body;
  auto need = [&](const char* field) {
    if (b.contains(field)) return true;
    reply_error(m.src, msg_id, ErrorCode::kMalformedRequest,
                fmt::format("{} needs a \"{}\"", type, field));
    return false;
  };
  if (!need("key")) return;
  ClientRequest req;
  req.op = *op_of(type);
  req.key = canonical_text(b["key"]);
  if (type == "write") {
    if (!need("value")) return;
    req.value = canonical_text(b["value"]);
  } else if (type == "cas") {
    if (!need("from") || !need("to")) return;
    auto cine = b.find("create_if_not_exists");
    if (cine != b.end() && !cine->is_boolean()) {
      return reply_error(m.src, msg_id, ErrorCode::kMalformedRequest,
                         "create_if_not_exists must be a boolean");
    }
    req.from = canonical_text(b["from"]);
    req.value = canonical_text(b["to"]);
    req.create_if_not_exists = cine != b.end() && cine->get<bool>();
  }
  server::RequestId id = ++next_request_;
  clients_[id] = Client{m.src, msg_id, type};
  core_->client_request(id, std::move(req), now());
}

void Node::client_reply(server::RequestId id, ClientReply r) {
  auto it = clients_.find(id);
  if (it == clients_.end()) return;
  Client c = std::move(it->second);
  clients_.erase(it);
  switch (r.code) {
    case ReplyCode::kOk: {
      Json body = make_body(c.type + "_ok", c.msg_id, next_msg_id_++);
      if (c.type == "read") {
        std::optional<Json> v = r.value ? parse_value(*r.value) : std::nullopt;
        if (!v) {
          return reply_error(c.src, c.msg_id, ErrorCode::kCrash, "stored value is not JSON");
        }
        body["value"] = std::move(*v);
      }
      return send(c.src, std::move(body));
    }
    case ReplyCode::kKeyDoesNotExist:
      return reply_error(c.src, c.msg_id, ErrorCode::kKeyDoesNotExist, "key does not exist");
    case ReplyCode::kPreconditionFailed:
      if (!r.value) return reply_error(c.src, c.msg_id, ErrorCode::kPreconditionFailed, r.text);
      return reply_error(c.src, c.msg_id, ErrorCode::kPreconditionFailed,
                         fmt::format("expected a different value; current value is {}", *r.value));
    case ReplyCode::kUnavailable:
      return reply_error(c.src, c.msg_id, ErrorCode::kTemporarilyUnavailable, r.text);
    case ReplyCode::kIndefinite:
      return reply_error(c.src, c.msg_id, ErrorCode::kCrash, r.text);
    case ReplyCode::kNotAnInteger:  // only Redis commands (INCR) give it
      return reply_error(c.src, c.msg_id, ErrorCode::kAbort, r.text);
  }
}

// ---- messages between servers -------------------------------------------------

void Node::handle_peer(const Message& m) {
  if (!core_->is_member(m.src) || m.src == id_) {
    // The core drops these too; not even decoding them is cheaper.
    core_->peer_message(m.src, raft::Message{}, now());
    return;
  }
  const std::string type = m.type();
  if (type == "raft") {
    std::string error;
    auto rm = decode_raft(m, &error);
    if (!rm) {
      std::cerr << "raftkv: bad raft message from " << m.src << ": " << error << std::endl;
      return;
    }
    return core_->peer_message(m.src, std::move(*rm), now());
  }
  // A forwarded request (fwd) or reply (fwd_ok); a "batch" holds several,
  // each as a single message's payload would be.
  auto deliver = [&](const Json& payload) {
    std::optional<server::PeerMessage> p;
    if (type == "fwd") {
      if (auto f = decode_forward(payload)) p = std::move(*f);
    } else if (auto r = decode_forward_reply(payload)) {
      p = std::move(*r);
    }
    if (!p) {
      std::cerr << "raftkv: malformed " << type << " from " << m.src << std::endl;
      return;
    }
    core_->peer_message(m.src, std::move(*p), now());
  };
  auto batch = m.body.find("batch");
  if (batch == m.body.end()) return deliver(m.body);
  if (!batch->is_array()) {
    std::cerr << "raftkv: malformed " << type << " batch from " << m.src << std::endl;
    return;
  }
  for (const Json& one : *batch) deliver(one);
}

// ---- time and the Ready loop ----------------------------------------------------

void Node::tick() {
  if (!core_ || fatal_) return;
  try {
    core_->tick(now());
  } catch (const storage::StorageError& e) {
    fail_stop(e.what());
  }
}

void Node::drive() {
  if (!core_ || fatal_) return;
  try {
    core_->drive();
  } catch (const storage::StorageError& e) {
    fail_stop(e.what());
  }
  wire_->send_batches();
}

size_t Node::pending() const {
  return core_ ? core_->pending() : 0;
}

std::string Node::stats() const {
  if (!core_) return "not initialised";
  return core_->stats();
}

}  // namespace raftkv::maelstrom

#include "adapter.h"

#include <algorithm>
#include <iostream>

#include "etcd_json.h"

namespace raftkv::etcd {

namespace {

using maelstrom::ErrorCode;
using maelstrom::Json;

// The stored form of a Maelstrom key or value: its JSON text with object
// members sorted, so equal JSON gives equal bytes for etcd's compare.
// Keys 3 and "3" stay distinct, as in raftkv.
std::string canonical(const Json& j) {
  return nlohmann::json::parse(j.dump()).dump();
}

}  // namespace

Adapter::Adapter(AdapterOptions opts, Out out, Call call)
    : opts_(std::move(opts)), out_(std::move(out)), call_(std::move(call)) {}

void Adapter::reply(const std::string& client, int64_t msg_id, std::string_view type,
                    const std::function<void(Json&)>& fill) {
  Json body = maelstrom::make_body(type, msg_id, next_msg_id_++);
  if (fill) fill(body);
  out_(maelstrom::serialize(maelstrom::Message{id_, client, std::move(body)}));
}

void Adapter::reply_error(const std::string& client, int64_t msg_id, int code,
                          std::string_view text) {
  if (code == 11 || code == 13) ++failures_;  // etcd did not answer usefully
  out_(maelstrom::serialize(maelstrom::Message{
      id_, client,
      maelstrom::make_error(msg_id, next_msg_id_++, static_cast<ErrorCode>(code), text)}));
}

void Adapter::handle_line(std::string_view line) {
  maelstrom::ParseResult r = maelstrom::parse(line);
  if (!r.message) {
    std::cerr << "etcd-adapter: malformed message (" << r.error << ")" << std::endl;
    if (r.msg_id && !r.src.empty()) reply_error(r.src, *r.msg_id, 12, r.error);
    return;
  }
  const maelstrom::Message& m = *r.message;
  const std::string type = m.type();
  auto msg_id = m.msg_id();
  if (!msg_id) {
    std::cerr << "etcd-adapter: ignoring " << type << " without an integer msg_id" << std::endl;
    return;
  }
  if (type == "init") return handle_init(m.src, *msg_id, m.body);
  if (id_.empty()) {
    // Answer as whoever it was addressed to, like raftkv does.
    id_ = m.dest;
    reply_error(m.src, *msg_id, 12, "node not initialised: send init before " + type);
    id_.clear();
    return;
  }
  if (type == "read") return handle_op(m.src, *msg_id, Op::kRead, m.body);
  if (type == "write") return handle_op(m.src, *msg_id, Op::kWrite, m.body);
  if (type == "cas") return handle_op(m.src, *msg_id, Op::kCas, m.body);
  reply_error(m.src, *msg_id, 10, "unsupported message type: " + type);
}

void Adapter::handle_init(const std::string& src, int64_t msg_id, const Json& body) {
  auto nid = body.find("node_id");
  auto nids = body.find("node_ids");
  if (nid == body.end() || !nid->is_string() || nids == body.end() || !nids->is_array()) {
    id_ = "";
    return reply_error(src, msg_id, 12, "init needs a string node_id and an array node_ids");
  }
  id_ = nid->get<std::string>();
  // Node i of the cluster talks to endpoint i mod count, so n nodes spread
  // over n etcd members.
  auto pos = std::find(nids->begin(), nids->end(), *nid);
  size_t index = pos == nids->end() ? 0 : static_cast<size_t>(pos - nids->begin());
  if (!opts_.endpoints.empty()) base_url_ = opts_.endpoints[index % opts_.endpoints.size()];
  std::cerr << "etcd-adapter " << id_ << ": "
            << (opts_.noop ? std::string("noop mode") : "using " + base_url_) << std::endl;
  reply(src, msg_id, "init_ok");
}

void Adapter::handle_op(const std::string& src, int64_t msg_id, Op op, const Json& b) {
  ++requests_;
  auto missing = [&](const char* f) {
    if (b.contains(f)) return false;
    reply_error(src, msg_id, 12, std::string("request needs a \"") + f + "\"");
    return true;
  };
  if (missing("key") || (op == Op::kWrite && missing("value")) ||
      (op == Op::kCas && (missing("from") || missing("to")))) {
    return;
  }
  auto cine = b.find("create_if_not_exists");
  if (cine != b.end() && !cine->is_boolean()) {
    return reply_error(src, msg_id, 12, "create_if_not_exists must be a boolean");
  }
  const bool create = cine != b.end() && cine->get<bool>();
  if (opts_.noop) {
    if (op == Op::kRead) return reply(src, msg_id, "read_ok", [](Json& j) { j["value"] = 0; });
    return reply(src, msg_id, op == Op::kWrite ? "write_ok" : "cas_ok");
  }
  const std::string key = canonical(b["key"]);
  uint64_t call = next_call_++;
  pending_[call] = Pending{src, msg_id, op, create};
  switch (op) {
    case Op::kRead:
      return call_(call, base_url_ + "/v3/kv/range", range_body(key));
    case Op::kWrite:
      return call_(call, base_url_ + "/v3/kv/put", put_body(key, canonical(b["value"])));
    case Op::kCas:
      return call_(call, base_url_ + "/v3/kv/txn",
                   cas_body(key, canonical(b["from"]), canonical(b["to"]), create));
  }
}

void Adapter::on_result(HttpResult& r) {
  auto it = pending_.find(r.id);
  if (it == pending_.end()) return;
  Pending p = std::move(it->second);
  pending_.erase(it);

  // Reads change nothing, and a request that never left did not happen: both
  // fail definitely (11). Anything else might have been applied (13).
  const int fail_code = p.op == Op::kRead || !r.sent ? 11 : 13;
  if (!r.error.empty()) return reply_error(p.client, p.msg_id, fail_code, "etcd: " + r.error);
  if (r.status != 200) {
    return reply_error(p.client, p.msg_id, fail_code,
                       "etcd: HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 200));
  }
  Outcome o = p.op == Op::kRead    ? decode_range(r.body)
              : p.op == Op::kWrite ? decode_put(r.body)
                                   : decode_cas(r.body, p.create_if_not_exists);
  using Kind = Outcome::Kind;
  switch (o.kind) {
    case Kind::kOk:
      if (p.op == Op::kRead) {
        Json v = Json::parse(o.value, nullptr, false);
        if (v.is_discarded()) {
          return reply_error(p.client, p.msg_id, 11, "stored value is not JSON");
        }
        return reply(p.client, p.msg_id, "read_ok", [&](Json& j) { j["value"] = std::move(v); });
      }
      return reply(p.client, p.msg_id, p.op == Op::kWrite ? "write_ok" : "cas_ok");
    case Kind::kNotFound:
      return reply_error(p.client, p.msg_id, 20, "key does not exist");
    case Kind::kMismatch:
      return reply_error(p.client, p.msg_id, 22,
                         "expected a different value; current value is " + o.value);
    case Kind::kBadReply:
      return reply_error(p.client, p.msg_id, fail_code, "etcd: " + o.value);
  }
}

}  // namespace raftkv::etcd

#include "client.h"

#include <fmt/format.h>

#include "clock.h"

namespace runner {

using raftkv::maelstrom::Json;

Client::Client(EventLoop& loop, Network& net, std::string id)
    : loop_(loop), net_(net), id_(std::move(id)) {
  net_.add_client(id_, [this](const Message& m) { on_message(m); });
}

void Client::rpc(const std::string& node, Json body, int64_t timeout_ns, ReplyCallback done) {
  int64_t msg_id = next_msg_id_++;
  // msg_id goes right after type, as Maelstrom's bodies read.
  Json b = raftkv::maelstrom::make_body(body.value("type", ""), std::nullopt, msg_id);
  for (auto& [k, v] : body.items()) {
    if (k != "type" && k != "msg_id") b[k] = v;
  }
  waiting_ = msg_id;
  done_ = std::move(done);
  loop_.after(timeout_ns, [this, msg_id] {
    if (waiting_ == msg_id) finish(std::nullopt);
  });
  net_.send(Message{id_, node, std::move(b)});
}

void Client::on_message(const Message& m) {
  if (waiting_ == 0 || m.in_reply_to() != waiting_) return;  // late or stray
  finish(m);
}

void Client::finish(const std::optional<Message>& reply) {
  waiting_ = 0;
  ReplyCallback done = std::move(done_);
  done_ = nullptr;
  done(reply);
}

Json request_body(const OpSpec& op) {
  Json b;
  switch (op.f) {
    case lin::Fn::kRead:
      b["type"] = "read";
      b["key"] = op.key;
      break;
    case lin::Fn::kWrite:
      b["type"] = "write";
      b["key"] = op.key;
      b["value"] = op.value;
      break;
    case lin::Fn::kCas:
      b["type"] = "cas";
      b["key"] = op.key;
      b["from"] = op.value[0];
      b["to"] = op.value[1];
      break;
  }
  return b;
}

Outcome classify(const OpSpec& op, const std::optional<Message>& reply) {
  Outcome o;
  bool read = op.f == lin::Fn::kRead;
  // A read has no effect, so an uncertain read is simply a failed one.
  auto uncertain = [&](std::string why) {
    o.type = read ? lin::EventType::kFail : lin::EventType::kInfo;
    o.error = std::move(why);
    return o;
  };
  if (!reply) return uncertain("timeout");
  const Json& body = reply->body;
  std::string type = reply->type();
  if (type == std::string(lin::to_string(op.f)) + "_ok") {
    o.type = lin::EventType::kOk;
    if (read) {
      auto v = body.find("value");
      o.value = v == body.end() ? nlohmann::json() : nlohmann::json::parse(v->dump());
    }
    return o;
  }
  if (type != "error") return uncertain(fmt::format("unexpected reply type '{}'", type));
  auto c = body.find("code");
  std::string text = body.value("text", "");
  if (c == body.end() || !c->is_number_integer()) return uncertain("error without integer code");
  int code = c->get<int>();
  if (read && code == 20) {
    // Deliberately unlike Maelstrom: "key does not exist" is an observation
    // that the key is absent, so a node that forgot acknowledged writes is
    // caught instead of excused.
    o.type = lin::EventType::kOk;
    o.value = nullptr;
    return o;
  }
  if (raftkv::maelstrom::is_definite(code)) {
    o.type = lin::EventType::kFail;
    o.error = fmt::format("error {}: {}", code, text);
    return o;
  }
  return uncertain(fmt::format("error {}: {}", code, text));
}

}  // namespace runner

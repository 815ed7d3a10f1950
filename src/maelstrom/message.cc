#include "maelstrom/message.h"

namespace raftkv::maelstrom {

bool is_definite(int code) {
  switch (code) {
    case 1:
    case 10:
    case 11:
    case 12:
    case 14:
    case 20:
    case 21:
    case 22:
    case 30:
      return true;
    default:
      return false;
  }
}

namespace {

std::optional<int64_t> int_field(const Json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_number_integer()) return std::nullopt;
  // An id beyond int64 could not be echoed faithfully: treat it as invalid.
  if (it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)) return std::nullopt;
  return it->get<int64_t>();
}

}  // namespace

std::string Message::type() const {
  auto it = body.find("type");
  if (it == body.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

std::optional<int64_t> Message::msg_id() const {
  return int_field(body, "msg_id");
}
std::optional<int64_t> Message::in_reply_to() const {
  return int_field(body, "in_reply_to");
}

ParseResult parse(std::string_view line) {
  ParseResult r;
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    r.error = "not valid JSON";
    return r;
  }
  if (!j.is_object()) {
    r.error = "message is not a JSON object";
    return r;
  }
  auto src = j.find("src");
  auto dest = j.find("dest");
  auto body = j.find("body");
  if (src != j.end() && src->is_string()) r.src = src->get<std::string>();
  if (dest != j.end() && dest->is_string()) r.dest = dest->get<std::string>();
  if (body != j.end() && body->is_object()) r.msg_id = int_field(*body, "msg_id");
  if (src == j.end() || !src->is_string()) {
    r.error = "missing or non-string \"src\"";
    return r;
  }
  if (dest == j.end() || !dest->is_string()) {
    r.error = "missing or non-string \"dest\"";
    return r;
  }
  if (body == j.end() || !body->is_object()) {
    r.error = "missing or non-object \"body\"";
    return r;
  }
  auto type = body->find("type");
  if (type == body->end() || !type->is_string()) {
    r.error = "body has no string \"type\"";
    return r;
  }
  r.message = Message{src->get<std::string>(), dest->get<std::string>(), std::move(*body)};
  return r;
}

std::string serialize(const Message& m) {
  // Built by hand so the envelope order never depends on a JSON library's
  // object ordering.
  std::string out;
  out.reserve(64 + m.src.size() + m.dest.size());
  out += "{\"src\":";
  out += Json(m.src).dump();
  out += ",\"dest\":";
  out += Json(m.dest).dump();
  out += ",\"body\":";
  out += m.body.dump(-1, ' ', false, Json::error_handler_t::replace);
  out += '}';
  return out;
}

Json make_body(std::string_view type, std::optional<int64_t> in_reply_to,
               std::optional<int64_t> msg_id) {
  Json body = Json::object();
  body["type"] = std::string(type);
  if (in_reply_to) body["in_reply_to"] = *in_reply_to;
  if (msg_id) body["msg_id"] = *msg_id;
  return body;
}

Json make_error(int64_t in_reply_to, std::optional<int64_t> msg_id, ErrorCode code,
                std::string_view text) {
  Json body = make_body("error", in_reply_to, msg_id);
  body["code"] = static_cast<int>(code);
  body["text"] = std::string(text);
  return body;
}

}  // namespace raftkv::maelstrom

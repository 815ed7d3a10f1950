#include "maelstrom/message.h"

#include <charconv>

#include "maelstrom/json_text.h"

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
  // One level of headroom for the forwarding wrappers, checked below.
  JsonParse p = parse_json(line, kMaxJsonDepth + 1);
  const std::string too_deep = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
  if (!p.value) {
    r.error = p.too_deep ? too_deep : p.error;
    IdScanner scan;
    scan.feed(line);
    scan.fill(r);
    return r;
  }
  Json& j = *p.value;
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
  if (p.depth > kMaxJsonDepth && *type != "fwd" && *type != "fwd_ok") {
    r.error = too_deep;
    return r;
  }
  r.message = Message{src->get<std::string>(), dest->get<std::string>(), std::move(*body)};
  return r;
}

// ---- IdScanner --------------------------------------------------------------

namespace {
constexpr size_t kMaxKeptToken = 1024;

// Decodes the bytes between a string's quotes (escapes included).
std::optional<std::string> decode_string(const std::string& raw) {
  if (raw.find('\\') == std::string::npos) return raw;
  JsonParse p = parse_json("\"" + raw + "\"", 1);
  if (!p.value || !p.value->is_string()) return std::nullopt;
  return p.value->get<std::string>();
}
}  // namespace

void IdScanner::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (state_ == State::kDone) return;
    byte(c);
  }
}

bool IdScanner::capturing_key() const {
  return expect_key_ && (depth_ == 1 || depth_ == 2);
}

// A value begins at the current depth: forget what its key held before
// (duplicates: the last one counts, and only if it is well-typed).
void IdScanner::value_start() {
  if (depth_ == 1 && outer_ == '{') {
    if (key1_ == "src") src_.reset();
    if (key1_ == "dest") dest_.reset();
  }
  if (in_body() && key2_ == "msg_id") msg_id_.reset();
}

void IdScanner::end_token() {
  if (capture_ && !overflow_) {
    if (token_is_key_) {
      auto k = decode_string(token_);
      (depth_ == 1 ? key1_ : key2_) = k.value_or(std::string());
    } else if (state_ == State::kString) {
      auto v = decode_string(token_);
      if (v && key1_ == "src") src_ = std::move(v);
      if (v && key1_ == "dest") dest_ = std::move(v);
    } else {  // a bare token: the body's msg_id
      int64_t id = 0;
      auto [p, ec] = std::from_chars(token_.data(), token_.data() + token_.size(), id);
      if (ec == std::errc() && p == token_.data() + token_.size()) msg_id_ = id;
    }
  } else if (capture_ && token_is_key_) {
    (depth_ == 1 ? key1_ : key2_).clear();  // too long to be one we look for
  }
  token_.clear();
  capture_ = overflow_ = token_is_key_ = false;
}

void IdScanner::byte(char c) {
  switch (state_) {
    case State::kString:
      if (c == '"') {
        end_token();
        state_ = State::kBetween;
        return;
      }
      if (c == '\\') state_ = State::kStringEscape;
      break;
    case State::kStringEscape:
      state_ = State::kString;
      break;
    case State::kBare:
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == '}' || c == ']' ||
          c == ':') {
        end_token();
        state_ = State::kBetween;
        return byte(c);
      }
      break;
    case State::kDone:
      return;
    case State::kBetween:
      switch (c) {
        case ' ':
        case '\t':
        case '\r':
        case '\n':
          return;
        case '{':
        case '[':
          value_start();
          ++depth_;
          if (depth_ == 1) outer_ = c;
          if (depth_ == 2) {
            inner_ = c;
            key2_.clear();
          }
          expect_key_ = c == '{';
          return;
        case '}':
        case ']':
          if (depth_ == 0) {
            state_ = State::kDone;
            return;
          }
          --depth_;
          expect_key_ = false;
          if (depth_ == 0) state_ = State::kDone;  // the top-level value is complete
          return;
        case ',':
          expect_key_ = (depth_ == 1 && outer_ == '{') || (depth_ == 2 && inner_ == '{');
          return;
        case ':':
          expect_key_ = false;
          return;
        case '"':
          state_ = State::kString;
          token_is_key_ = capturing_key();
          if (!token_is_key_) {
            value_start();
            capture_ = depth_ == 1 && outer_ == '{' && (key1_ == "src" || key1_ == "dest");
          } else {
            capture_ = true;
          }
          return;
        default:
          if (c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')) {
            value_start();
            state_ = State::kBare;
            capture_ = in_body() && key2_ == "msg_id";
            break;
          }
          state_ = State::kDone;  // cannot be JSON
          return;
      }
      break;
  }
  if (capture_ && !overflow_) {
    if (token_.size() < kMaxKeptToken) {
      token_ += c;
    } else {
      overflow_ = true;
      token_.clear();
    }
  }
}

void IdScanner::fill(ParseResult& r) const {
  // A NUL or garbage inside an unfinished string or number: nothing from it.
  if (src_) r.src = *src_;
  if (dest_) r.dest = *dest_;
  r.msg_id = msg_id_;
}

ParseResult parse_oversized(const IdScanner& scanned, size_t total, size_t limit) {
  ParseResult r;
  r.error = "line of " + std::to_string(total) + " bytes is over the limit of " +
            std::to_string(limit) + " bytes";
  scanned.fill(r);
  return r;
}

ParseResult parse_oversized(std::string_view head, size_t total, size_t limit) {
  IdScanner scan;
  scan.feed(head);
  return parse_oversized(scan, total, limit);
}

std::string serialize(const Message& m) {
  // Built by hand so the envelope order never depends on a JSON library's
  // object ordering.
  std::string out;
  out.reserve(64 + m.src.size() + m.dest.size());
  out += "{\"src\":";
  write_json(out, Json(m.src));
  out += ",\"dest\":";
  write_json(out, Json(m.dest));
  out += ",\"body\":";
  write_json(out, m.body);
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

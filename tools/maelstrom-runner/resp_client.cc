#include "resp_client.h"

#include <fmt/format.h>

#include <charconv>

namespace runner {

using raftkv::maelstrom::Json;

namespace {

// Reads and writes are compared as text by the server, so the lin-kv
// integers go over the wire in one canonical form: their decimal digits.
std::string text_of(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string command(const std::vector<std::string>& args) {
  std::string s = fmt::format("*{}\r\n", args.size());
  for (const auto& a : args) s += fmt::format("${}\r\n{}\r\n", a.size(), a);
  return s;
}

// Redis 7.0 has no SET ... IFEQ: compare and set in one atomic script.
constexpr const char* kCasScript =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) "
    "return redis.status_reply('OK') end "
    "return false";

constexpr int kMaxDepth = 8;
constexpr int64_t kMaxBulk = 512LL << 20;

}  // namespace

std::string resp_request(const Json& body, CasStyle cas) {
  std::string type = body.value("type", "");
  if (!body.contains("key")) return "";
  std::string key = text_of(body["key"]);
  if (type == "read") return command({"GET", key});
  if (type == "write" && body.contains("value"))
    return command({"SET", key, text_of(body["value"])});
  if (type == "cas" && body.contains("from") && body.contains("to")) {
    std::string from = text_of(body["from"]), to = text_of(body["to"]);
    if (cas == CasStyle::kEval) return command({"EVAL", kCasScript, "1", key, from, to});
    return command({"SET", key, to, "IFEQ", from});
  }
  return "";
}

std::optional<RespReply> RespReplyReader::next() {
  if (!error_.empty()) return std::nullopt;
  size_t pos = 0;
  RespReply r;
  if (!parse(&pos, &r, 0)) return std::nullopt;
  buf_.erase(0, pos);
  return r;
}

bool RespReplyReader::parse(size_t* pos, RespReply* out, int depth) {
  size_t p = *pos;
  size_t eol = buf_.find("\r\n", p);
  if (eol == std::string::npos) return false;
  if (eol == p) {
    error_ = "empty reply line";
    return false;
  }
  char kind = buf_[p];
  std::string line = buf_.substr(p + 1, eol - p - 1);
  p = eol + 2;
  auto number = [&](int64_t* n) {
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), *n);
    if (ec != std::errc() || end != line.data() + line.size()) {
      error_ = fmt::format("bad number in reply: '{}'", line);
      return false;
    }
    return true;
  };
  switch (kind) {
    case '+':
    case '-':
      out->kind = kind == '+' ? RespReply::kSimple : RespReply::kError;
      out->text = line;
      break;
    case ':':
      out->kind = RespReply::kInteger;
      if (!number(&out->integer)) return false;
      break;
    case '_':
      out->kind = RespReply::kNil;
      break;
    case '$': {
      int64_t n;
      if (!number(&n) || n > kMaxBulk) return false;
      if (n < 0) {
        out->kind = RespReply::kNil;
        break;
      }
      if (buf_.size() < p + n + 2) return false;
      out->kind = RespReply::kBulk;
      out->text = buf_.substr(p, n);
      p += n + 2;
      break;
    }
    case '*': {
      int64_t n;
      if (!number(&n)) return false;
      if (n < 0) {
        out->kind = RespReply::kNil;
        break;
      }
      if (depth >= kMaxDepth) {
        error_ = "reply nested too deep";
        return false;
      }
      out->kind = RespReply::kArray;
      for (int64_t i = 0; i < n; ++i) {
        RespReply e;
        if (!parse(&p, &e, depth + 1)) return false;
        out->elements.push_back(std::move(e));
      }
      break;
    }
    default:
      error_ = fmt::format("unknown reply type byte 0x{:02x}", static_cast<unsigned char>(kind));
      return false;
  }
  *pos = p;
  return true;
}

Json maelstrom_error(int64_t in_reply_to, int code, const std::string& text) {
  return raftkv::maelstrom::make_error(in_reply_to, std::nullopt,
                                       static_cast<raftkv::maelstrom::ErrorCode>(code), text);
}

Json maelstrom_reply(const std::string& f, int64_t in_reply_to, const RespReply& reply) {
  using Code = raftkv::maelstrom::ErrorCode;
  auto error = [&](Code code, const std::string& text) {
    return maelstrom_error(in_reply_to, static_cast<int>(code), text);
  };
  if (reply.kind == RespReply::kError) {
    bool uncertain = reply.text.rfind("UNCERTAIN", 0) == 0;
    return error(uncertain ? Code::kCrash : Code::kTemporarilyUnavailable, reply.text);
  }
  bool ok_text =
      (reply.kind == RespReply::kSimple || reply.kind == RespReply::kBulk) && reply.text == "OK";
  if (f == "read") {
    if (reply.kind == RespReply::kNil) return error(Code::kKeyDoesNotExist, "nil");
    if (reply.kind == RespReply::kBulk) {
      Json body = raftkv::maelstrom::make_body("read_ok", in_reply_to, std::nullopt);
      int64_t v;
      const std::string& t = reply.text;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec == std::errc() && end == t.data() + t.size() && !t.empty())
        body["value"] = v;
      else
        body["value"] = t;  // not ours: the checker will say it was never written
      return body;
    }
  } else if ((f == "write" || f == "cas") && ok_text) {
    return raftkv::maelstrom::make_body(f + "_ok", in_reply_to, std::nullopt);
  } else if (f == "cas" && reply.kind == RespReply::kNil) {
    return error(Code::kPreconditionFailed, "nil: value differs from 'from' or key absent");
  }
  // Not an answer this request can get: its effect is unknown.
  return error(Code::kCrash, fmt::format("unexpected RESP reply kind {} '{}'",
                                         static_cast<int>(reply.kind), reply.text));
}

}  // namespace runner

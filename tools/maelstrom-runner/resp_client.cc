#include "resp_client.h"

#include <fmt/format.h>

#include <charconv>

#include "resp/encode.h"

namespace runner {

using raftkv::maelstrom::Json;

namespace {

// Reads and writes are compared as text by the server, so the lin-kv
// integers go over the wire in one canonical form: their decimal digits.
std::string text_of(const Json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string command(std::initializer_list<std::string_view> args) {
  std::string s;
  raftkv::resp::append_bulk_array(s, args);
  return s;
}

// Redis 7.0 has no SET ... IFEQ: compare and set in one atomic script.
constexpr const char* kCasScript =
    "local v = redis.call('GET', KEYS[1]) "
    "if v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) "
    "return redis.status_reply('OK') end "
    "return false";

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

Json maelstrom_error(int64_t in_reply_to, int code, const std::string& text) {
  return raftkv::maelstrom::make_error(in_reply_to, std::nullopt,
                                       static_cast<raftkv::maelstrom::ErrorCode>(code), text);
}

Json maelstrom_reply(const std::string& f, int64_t in_reply_to, const RespReply& reply) {
  using Code = raftkv::maelstrom::ErrorCode;
  auto error = [&](Code code, const std::string& text) {
    return maelstrom_error(in_reply_to, static_cast<int>(code), text);
  };
  if (reply.type == RespReply::Type::kError) {
    bool uncertain = reply.str.rfind("UNCERTAIN", 0) == 0;
    return error(uncertain ? Code::kCrash : Code::kTemporarilyUnavailable, reply.str);
  }
  bool ok_text = (reply.type == RespReply::Type::kSimple || reply.type == RespReply::Type::kBulk) &&
                 reply.str == "OK";
  if (f == "read") {
    if (reply.type == RespReply::Type::kNull) return error(Code::kKeyDoesNotExist, "nil");
    if (reply.type == RespReply::Type::kBulk) {
      Json body = raftkv::maelstrom::make_body("read_ok", in_reply_to, std::nullopt);
      int64_t v;
      const std::string& t = reply.str;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec == std::errc() && end == t.data() + t.size() && !t.empty())
        body["value"] = v;
      else
        body["value"] = t;  // not ours: the checker will say it was never written
      return body;
    }
  } else if ((f == "write" || f == "cas") && ok_text) {
    return raftkv::maelstrom::make_body(f + "_ok", in_reply_to, std::nullopt);
  } else if (f == "cas" && reply.type == RespReply::Type::kNull) {
    return error(Code::kPreconditionFailed, "nil: value differs from 'from' or key absent");
  }
  // Not an answer this request can get: its effect is unknown.
  return error(Code::kCrash, "unexpected RESP reply " + raftkv::resp::to_display(reply));
}

}  // namespace runner

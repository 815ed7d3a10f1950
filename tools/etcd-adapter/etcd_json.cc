#include "etcd_json.h"

#include <array>
#include <nlohmann/json.hpp>

namespace raftkv::etcd {

namespace {

using nlohmann::json;
using Kind = Outcome::Kind;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Outcome bad(std::string why) {
  return {Kind::kBadReply, std::move(why)};
}

// The first kv of a range response, or null when the key is absent.
Outcome from_range(const json& r, Kind found) {
  auto kvs = r.find("kvs");
  if (kvs == r.end() || !kvs->is_array() || kvs->empty()) return {Kind::kNotFound, {}};
  const json& kv = (*kvs)[0];
  auto v = kv.find("value");  // omitted when the value is empty
  if (v == kv.end()) return {found, {}};
  if (!v->is_string()) return bad("non-string value");
  auto decoded = base64_decode(v->get<std::string>());
  if (!decoded) return bad("value is not base64");
  return {found, std::move(*decoded)};
}

std::optional<json> parse_object(std::string_view reply) {
  json j = json::parse(reply, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("header")) return std::nullopt;
  return j;
}

}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 63]);
  }
  if (size_t rest = in.size() - i) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (rest == 2) n |= uint8_t(in[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  static const std::array<int8_t, 256> table = [] {
    std::array<int8_t, 256> t;
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[uint8_t(kAlphabet[i])] = int8_t(i);
    return t;
  }();
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = table[uint8_t(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  return out;
}

std::string range_body(std::string_view key) {
  return "{\"key\":\"" + base64_encode(key) + "\"}";
}

std::string put_body(std::string_view key, std::string_view value) {
  return "{\"key\":\"" + base64_encode(key) + "\",\"value\":\"" + base64_encode(value) + "\"}";
}

std::string cas_body(std::string_view key, std::string_view from, std::string_view to,
                     bool create_if_not_exists) {
  const std::string k = base64_encode(key);
  const std::string put =
      "{\"request_put\":{\"key\":\"" + k + "\",\"value\":\"" + base64_encode(to) + "\"}}";
  const std::string range = "{\"request_range\":{\"key\":\"" + k + "\"}}";
  const bool inverted = create_if_not_exists;
  return "{\"compare\":[{\"key\":\"" + k + "\",\"target\":\"VALUE\",\"result\":\"" +
         (inverted ? "NOT_EQUAL" : "EQUAL") + "\",\"value\":\"" + base64_encode(from) +
         "\"}],\"success\":[" + (inverted ? range : put) + "],\"failure\":[" +
         (inverted ? put : range) + "]}";
}

Outcome decode_range(std::string_view reply) {
  auto j = parse_object(reply);
  if (!j) return bad("unparsable range reply");
  return from_range(*j, Kind::kOk);
}

Outcome decode_put(std::string_view reply) {
  if (!parse_object(reply)) return bad("unparsable put reply");
  return {Kind::kOk, {}};
}

Outcome decode_cas(std::string_view reply, bool create_if_not_exists) {
  auto j = parse_object(reply);
  if (!j) return bad("unparsable txn reply");
  auto s = j->find("succeeded");  // omitted when false
  const bool succeeded = s != j->end() && s->is_boolean() && s->get<bool>();
  // The branch that ran a put means the cas happened.
  if (succeeded != create_if_not_exists) return {Kind::kOk, {}};
  auto rs = j->find("responses");
  if (rs == j->end() || !rs->is_array() || rs->empty() || !(*rs)[0].contains("response_range")) {
    return bad("txn reply has no range response");
  }
  Outcome o = from_range((*rs)[0]["response_range"], Kind::kMismatch);
  // With create_if_not_exists an absent key takes the put branch, so
  // reaching here with no key would mean the compare misbehaved.
  if (create_if_not_exists && o.kind == Kind::kNotFound) return bad("txn ranged a missing key");
  return o;
}

}  // namespace raftkv::etcd

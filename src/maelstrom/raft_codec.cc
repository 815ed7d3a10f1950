#include "maelstrom/raft_codec.h"

#include <array>

namespace raftkv::maelstrom {
namespace {

constexpr std::array<raft::MsgType, 11> kTypes = {
    raft::MsgType::kAppend,       raft::MsgType::kAppendResp,    raft::MsgType::kVote,
    raft::MsgType::kVoteResp,     raft::MsgType::kPreVote,       raft::MsgType::kPreVoteResp,
    raft::MsgType::kHeartbeat,    raft::MsgType::kHeartbeatResp, raft::MsgType::kSnapshotChunk,
    raft::MsgType::kSnapshotResp, raft::MsgType::kTimeoutNow};

// A non-negative integer (parsed ones are unsigned; built ones may not be).
std::optional<uint64_t> as_u64(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0)
    return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

bool get_u64(const Json& body, const char* name, uint64_t* out) {
  auto it = body.find(name);
  if (it == body.end()) {
    *out = 0;
    return true;
  }
  auto v = as_u64(*it);
  if (!v) return false;
  *out = *v;
  return true;
}

}  // namespace

void encode_raft(const raft::Message& m, Json& body) {
  body["m"] = raft::to_string(m.type);
  body["term"] = m.term;
  if (m.log_term) body["lt"] = m.log_term;
  if (m.index) body["i"] = m.index;
  if (m.commit) body["c"] = m.commit;
  if (m.reject) body["rej"] = true;
  if (m.reject_hint) body["hint"] = m.reject_hint;
  if (m.conflict_term) body["ct"] = m.conflict_term;
  if (m.context) body["ctx"] = m.context;
  if (m.last) body["last"] = true;
  if (!m.data.empty()) body["d"] = m.data;
  if (!m.config.empty()) body["cfg"] = m.config;
  if (!m.entries.empty()) {
    // Entries follow index+1, index+2, ...; each is [term, type, data].
    Json ents = Json::array();
    for (const raft::Entry& e : m.entries) {
      ents.push_back(Json::array({e.term, static_cast<int>(e.type), e.data}));
    }
    body["e"] = std::move(ents);
  }
}

namespace {

std::optional<raft::Message> decode_body(const Message& msg, std::string* error) {
  const Json& b = msg.body;
  auto fail = [&](const char* why) -> std::optional<raft::Message> {
    *error = why;
    return std::nullopt;
  };
  if (!b.is_object()) return fail("raft message body is not an object");
  raft::Message m;
  m.from = msg.src;
  m.to = msg.dest;
  auto mt = b.find("m");
  bool found = false;
  if (mt != b.end() && mt->is_string()) {
    for (raft::MsgType t : kTypes) {
      if (mt->get_ref<const std::string&>() == raft::to_string(t)) {
        m.type = t;
        found = true;
      }
    }
  }
  if (!found) return fail("raft message has no valid \"m\"");
  if (!get_u64(b, "term", &m.term) || !get_u64(b, "lt", &m.log_term) ||
      !get_u64(b, "i", &m.index) || !get_u64(b, "c", &m.commit) ||
      !get_u64(b, "hint", &m.reject_hint) || !get_u64(b, "ct", &m.conflict_term) ||
      !get_u64(b, "ctx", &m.context)) {
    return fail("raft message has a numeric field that is not an integer in [0, 2^64)");
  }
  auto rej = b.find("rej");
  if (rej != b.end() && !rej->is_boolean()) return fail("raft message \"rej\" is not a boolean");
  m.reject = rej != b.end() && rej->get<bool>();
  auto last = b.find("last");
  if (last != b.end() && !last->is_boolean()) return fail("raft message \"last\" is not a boolean");
  m.last = last != b.end() && last->get<bool>();
  auto data = b.find("d");
  if (data != b.end()) {
    if (!data->is_string()) return fail("raft message data is not a string");
    m.data = data->get<std::string>();
  }
  auto config = b.find("cfg");
  if (config != b.end()) {
    if (!config->is_string()) return fail("raft message config is not a string");
    m.config = config->get<std::string>();
  }
  auto ents = b.find("e");
  if (ents != b.end()) {
    if (!ents->is_array()) return fail("raft message entries are not an array");
    const auto& arr = ents->get_ref<const Json::array_t&>();
    if (m.index > UINT64_MAX - 1 - arr.size()) return fail("raft message entry indexes overflow");
    m.entries.reserve(arr.size());
    uint64_t index = m.index;
    for (const Json& e : arr) {
      std::optional<uint64_t> term, type;
      if (e.is_array() && e.size() == 3) term = as_u64(e[0]), type = as_u64(e[1]);
      if (!term || !type || *type > static_cast<uint64_t>(raft::EntryType::kConfig) ||
          !e[2].is_string()) {
        return fail("raft message has a malformed entry");
      }
      m.entries.push_back(raft::Entry{*term, ++index, static_cast<raft::EntryType>(*type),
                                      e[2].get<std::string>()});
    }
  }
  return m;
}

}  // namespace

std::optional<raft::Message> decode_raft(const Message& msg, std::string* error) {
  try {
    return decode_body(msg, error);
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    *error = std::string("raft message could not be decoded: ") + e.what();
    return std::nullopt;
  }
}

}  // namespace raftkv::maelstrom

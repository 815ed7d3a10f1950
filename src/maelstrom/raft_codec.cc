#include "maelstrom/raft_codec.h"

#include <array>

namespace raftkv::maelstrom {
namespace {

constexpr std::array<raft::MsgType, 10> kTypes = {
    raft::MsgType::kAppend,      raft::MsgType::kAppendResp,    raft::MsgType::kVote,
    raft::MsgType::kVoteResp,    raft::MsgType::kPreVote,       raft::MsgType::kPreVoteResp,
    raft::MsgType::kHeartbeat,   raft::MsgType::kHeartbeatResp, raft::MsgType::kSnapshotChunk,
    raft::MsgType::kSnapshotResp};

bool get_u64(const Json& body, const char* name, uint64_t* out) {
  auto it = body.find(name);
  if (it == body.end()) {
    *out = 0;
    return true;
  }
  if (!it->is_number_unsigned()) return false;
  *out = it->get<uint64_t>();
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
  if (!m.entries.empty()) {
    // Entries follow index+1, index+2, ...; each is [term, type, data].
    Json ents = Json::array();
    for (const raft::Entry& e : m.entries) {
      ents.push_back(Json::array({e.term, static_cast<int>(e.type), e.data}));
    }
    body["e"] = std::move(ents);
  }
}

std::optional<raft::Message> decode_raft(const Message& msg, std::string* error) {
  const Json& b = msg.body;
  raft::Message m;
  m.from = msg.src;
  m.to = msg.dest;
  auto mt = b.find("m");
  bool found = false;
  if (mt != b.end() && mt->is_string()) {
    for (raft::MsgType t : kTypes) {
      if (*mt == raft::to_string(t)) {
        m.type = t;
        found = true;
      }
    }
  }
  if (!found) {
    *error = "raft message has no valid \"m\"";
    return std::nullopt;
  }
  if (!get_u64(b, "term", &m.term) || !get_u64(b, "lt", &m.log_term) ||
      !get_u64(b, "i", &m.index) || !get_u64(b, "c", &m.commit) ||
      !get_u64(b, "hint", &m.reject_hint) || !get_u64(b, "ct", &m.conflict_term) ||
      !get_u64(b, "ctx", &m.context)) {
    *error = "raft message has a non-integer numeric field";
    return std::nullopt;
  }
  auto rej = b.find("rej");
  m.reject = rej != b.end() && rej->is_boolean() && rej->get<bool>();
  auto last = b.find("last");
  m.last = last != b.end() && last->is_boolean() && last->get<bool>();
  auto data = b.find("d");
  if (data != b.end()) {
    if (!data->is_string()) {
      *error = "raft message data is not a string";
      return std::nullopt;
    }
    m.data = data->get<std::string>();
  }
  auto ents = b.find("e");
  if (ents != b.end()) {
    if (!ents->is_array()) {
      *error = "raft message entries are not an array";
      return std::nullopt;
    }
    uint64_t index = m.index;
    for (const Json& e : *ents) {
      if (!e.is_array() || e.size() != 3 || !e[0].is_number_unsigned() ||
          !e[1].is_number_unsigned() || e[1].get<int>() > 1 || !e[2].is_string()) {
        *error = "raft message has a malformed entry";
        return std::nullopt;
      }
      m.entries.push_back(raft::Entry{e[0].get<uint64_t>(), ++index,
                                      static_cast<raft::EntryType>(e[1].get<int>()),
                                      e[2].get<std::string>()});
    }
  }
  return m;
}

}  // namespace raftkv::maelstrom

// A compact log of every message the simulated network routed: who sent what
// to whom, when, and whether it arrived. It feeds the report's message
// (Lamport) diagram. Records are kept in memory as small fixed-size structs
// with interned names, up to a cap, and written as messages.jsonl at the end.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "maelstrom/message.h"

namespace runner {

enum class MessageFate : uint8_t { kDelivered, kPartitioned, kDown };
const char* to_string(MessageFate f);  // "ok", "partition", "down"

struct MessageRecord {
  int64_t sent_ns = 0;  // monotonic
  int64_t done_ns = 0;  // delivered or dropped (monotonic)
  int64_t msg_id = -1;  // -1: none
  int64_t in_reply_to = -1;
  uint16_t src = 0, dest = 0, type = 0;  // indexes into names()
  MessageFate fate = MessageFate::kDelivered;
};

class MessagesLog {
 public:
  // About 48 MB of records; a 60 s run at full rate stays well below it.
  static constexpr size_t kDefaultCap = 1'000'000;
  explicit MessagesLog(size_t cap = kDefaultCap) : cap_(cap) {}

  void record(const raftkv::maelstrom::Message& m, int64_t sent_ns, int64_t done_ns,
              MessageFate fate);

  const std::vector<MessageRecord>& records() const { return records_; }
  const std::vector<std::string>& names() const { return names_; }
  int64_t dropped_over_cap() const { return over_cap_; }

  // One JSON array per line: [sent_us, done_us, src, dest, type, msg_id,
  // in_reply_to, fate], times relative to t0_ns. Returns false if unwritable.
  bool write_jsonl(const std::string& path, int64_t t0_ns) const;

 private:
  uint16_t intern(const std::string& name);

  size_t cap_;
  std::vector<MessageRecord> records_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, uint16_t> ids_;
  int64_t over_cap_ = 0;
};

}  // namespace runner

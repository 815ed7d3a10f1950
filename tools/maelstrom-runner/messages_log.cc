#include "messages_log.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>

namespace runner {

const char* to_string(MessageFate f) {
  switch (f) {
    case MessageFate::kDelivered:
      return "ok";
    case MessageFate::kPartitioned:
      return "partition";
    case MessageFate::kDown:
      return "down";
  }
  return "?";
}

uint16_t MessagesLog::intern(const std::string& name) {
  auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  // A node inventing message types without end must not wrap the index.
  if (names_.size() >= 65535) return intern("(other)");
  auto id = static_cast<uint16_t>(names_.size());
  names_.push_back(name);
  ids_.emplace(name, id);
  return id;
}

void MessagesLog::record(const raftkv::maelstrom::Message& m, int64_t sent_ns, int64_t done_ns,
                         MessageFate fate) {
  if (records_.size() >= cap_) {
    ++over_cap_;
    return;
  }
  MessageRecord r;
  r.sent_ns = sent_ns;
  r.done_ns = done_ns;
  r.msg_id = m.msg_id().value_or(-1);
  r.in_reply_to = m.in_reply_to().value_or(-1);
  r.src = intern(m.src);
  r.dest = intern(m.dest);
  r.type = intern(m.type());
  r.fate = fate;
  records_.push_back(r);
}

bool MessagesLog::write_jsonl(const std::string& path, int64_t t0_ns) const {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "w"), std::fclose);
  if (!f) return false;
  auto quoted = [&](uint16_t i) { return nlohmann::json(names_[i]).dump(); };
  for (const MessageRecord& r : records_)
    fmt::print(f.get(), "[{},{},{},{},{},{},{},\"{}\"]\n", (r.sent_ns - t0_ns) / 1000,
               (r.done_ns - t0_ns) / 1000, quoted(r.src), quoted(r.dest), quoted(r.type), r.msg_id,
               r.in_reply_to, to_string(r.fate));
  return std::fflush(f.get()) == 0;
}

}  // namespace runner

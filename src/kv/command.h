// Client commands as they travel through the Raft log. Keys and values are
// byte strings (the Maelstrom adapter puts canonical JSON text in them).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace raftkv::kv {

struct Command {
  enum class Op : uint8_t { kWrite, kCas, kRead };  // kRead: --read-mode log
  Op op = Op::kWrite;
  std::string key;
  std::string value;  // the new value (write, cas "to")
  std::string from;   // cas only: the expected current value
  bool create_if_not_exists = false;

  bool operator==(const Command&) const = default;
};

std::string encode(const Command& c);
// nullopt when the bytes are not a command this version understands.
std::optional<Command> decode(std::string_view data);

}  // namespace raftkv::kv

// Client commands as they travel through the Raft log. Keys and values are
// byte strings (the Maelstrom adapter puts canonical JSON text in them; the
// Redis adapter puts the client's bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raftkv::kv {

struct Command {
  enum class Op : uint8_t {
    kWrite,   // key := value
    kCas,     // Maelstrom cas: key := value if key == from (error otherwise)
    kRead,    // --read-mode log: a read through the log
    kSet,     // Redis SET with an optional condition; never an error
    kDelete,  // keys: removes each, counts those that existed
    kIncrBy,  // key := key + delta, the value read as a decimal int64
    kExists,  // keys: counts those that exist (a read through the log)
  };
  // kSet's condition (SET's NX, XX and IFEQ options).
  enum class Condition : uint8_t { kNone, kIfAbsent, kIfPresent, kIfEqual };

  Op op = Op::kWrite;
  std::string key;
  std::string value;                  // the new value (write, cas "to", set)
  std::string from;                   // cas and set IFEQ: the expected current value
  bool create_if_not_exists = false;  // cas only
  Condition condition = Condition::kNone;
  bool return_old = false;        // set: the reply carries the old value (SET ... GET)
  std::vector<std::string> keys;  // delete, exists
  int64_t delta = 0;              // incrby

  bool operator==(const Command&) const = default;
};

std::string encode(const Command& c);
// nullopt when the bytes are not a command this version understands.
std::optional<Command> decode(std::string_view data);

}  // namespace raftkv::kv

#include "kv/command.h"

#include "kv/netstring.h"

namespace raftkv::kv {

// op ('w', 'c' or 'r') | create flag ('0' or '1') | key | value | from
std::string encode(const Command& c) {
  std::string out;
  out.reserve(16 + c.key.size() + c.value.size() + c.from.size());
  out.push_back(c.op == Command::Op::kWrite ? 'w' : c.op == Command::Op::kCas ? 'c' : 'r');
  out.push_back(c.create_if_not_exists ? '1' : '0');
  put_field(out, c.key);
  put_field(out, c.value);
  put_field(out, c.from);
  return out;
}

std::optional<Command> decode(std::string_view data) {
  if (data.size() < 2) return std::nullopt;
  Command c;
  if (data[0] == 'w') {
    c.op = Command::Op::kWrite;
  } else if (data[0] == 'c') {
    c.op = Command::Op::kCas;
  } else if (data[0] == 'r') {
    c.op = Command::Op::kRead;
  } else {
    return std::nullopt;
  }
  if (data[1] != '0' && data[1] != '1') return std::nullopt;
  c.create_if_not_exists = data[1] == '1';
  size_t pos = 2;
  if (!get_field(data, &pos, &c.key) || !get_field(data, &pos, &c.value) ||
      !get_field(data, &pos, &c.from) || pos != data.size()) {
    return std::nullopt;
  }
  return c;
}

}  // namespace raftkv::kv

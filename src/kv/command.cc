#include "kv/command.h"

#include <charconv>

namespace raftkv::kv {
namespace {

// Netstring-style fields ("<len>:<bytes>") keep the encoding valid UTF-8
// (keys and values are JSON text), so entries can travel inside JSON Raft
// messages without base64, and still parse without a JSON parser.
void put_field(std::string& out, std::string_view s) {
  out.append(std::to_string(s.size()));
  out.push_back(':');
  out.append(s);
}

bool get_field(std::string_view in, size_t* pos, std::string* out) {
  size_t colon = in.find(':', *pos);
  if (colon == std::string_view::npos) return false;
  size_t n = 0;
  auto [p, ec] = std::from_chars(in.data() + *pos, in.data() + colon, n);
  if (ec != std::errc() || p != in.data() + colon || colon == *pos) return false;
  if (in.size() - colon - 1 < n) return false;
  out->assign(in.substr(colon + 1, n));
  *pos = colon + 1 + n;
  return true;
}

}  // namespace

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

#include "kv/command.h"

#include "kv/netstring.h"
#include "resp/number.h"

namespace raftkv::kv {

// Every command is an op letter, a flag letter, then netstring fields:
//   w|c|r  create('0'|'1')   key value from
//   s      condition(-nxe)   key value from; a trailing "g" field: return old
//   i      '0'               key delta
//   d|e    '0'               keys...
namespace {

constexpr std::string_view kOpLetters = "wcrsdie";  // indexed by Command::Op
constexpr std::string_view kConditionLetters = "-nxe";

}  // namespace

std::string encode(const Command& c) {
  std::string out;
  out.reserve(16 + c.key.size() + c.value.size() + c.from.size());
  out.push_back(kOpLetters[static_cast<size_t>(c.op)]);
  switch (c.op) {
    case Command::Op::kWrite:
    case Command::Op::kCas:
    case Command::Op::kRead:
      out.push_back(c.create_if_not_exists ? '1' : '0');
      put_field(out, c.key);
      put_field(out, c.value);
      put_field(out, c.from);
      break;
    case Command::Op::kSet:
      out.push_back(kConditionLetters[static_cast<size_t>(c.condition)]);
      put_field(out, c.key);
      put_field(out, c.value);
      put_field(out, c.from);
      if (c.return_old) put_field(out, "g");
      break;
    case Command::Op::kIncrBy:
      out.push_back('0');
      put_field(out, c.key);
      put_field(out, std::to_string(c.delta));
      break;
    case Command::Op::kDelete:
    case Command::Op::kExists:
      out.push_back('0');
      for (const std::string& k : c.keys) put_field(out, k);
      break;
  }
  return out;
}

namespace {

bool decode_fields(std::string_view data, Command& c) {
  size_t pos = 2;
  switch (c.op) {
    case Command::Op::kWrite:
    case Command::Op::kCas:
    case Command::Op::kRead:
      if (data[1] != '0' && data[1] != '1') return false;
      c.create_if_not_exists = data[1] == '1';
      return get_field(data, &pos, &c.key) && get_field(data, &pos, &c.value) &&
             get_field(data, &pos, &c.from) && pos == data.size();
    case Command::Op::kSet: {
      size_t cond = kConditionLetters.find(data[1]);
      if (cond == std::string_view::npos) return false;
      c.condition = static_cast<Command::Condition>(cond);
      if (!get_field(data, &pos, &c.key) || !get_field(data, &pos, &c.value) ||
          !get_field(data, &pos, &c.from)) {
        return false;
      }
      if (pos == data.size()) return true;
      std::string flag;
      c.return_old = get_field(data, &pos, &flag) && flag == "g";
      return c.return_old && pos == data.size();
    }
    case Command::Op::kIncrBy: {
      std::string delta;
      if (data[1] != '0' || !get_field(data, &pos, &c.key) || !get_field(data, &pos, &delta) ||
          pos != data.size()) {
        return false;
      }
      std::optional<int64_t> d = resp::parse_int64_strict(delta);
      if (!d) return false;
      c.delta = *d;
      return true;
    }
    case Command::Op::kDelete:
    case Command::Op::kExists:
      if (data[1] != '0') return false;
      while (pos < data.size()) {
        if (!get_field(data, &pos, &c.keys.emplace_back())) return false;
      }
      return !c.keys.empty();
  }
  return false;
}

}  // namespace

std::optional<Command> decode(std::string_view data) {
  if (data.size() < 2) return std::nullopt;
  size_t op = kOpLetters.find(data[0]);
  if (op == std::string_view::npos) return std::nullopt;
  Command c;
  c.op = static_cast<Command::Op>(op);
  if (!decode_fields(data, c)) return std::nullopt;
  return c;
}

}  // namespace raftkv::kv

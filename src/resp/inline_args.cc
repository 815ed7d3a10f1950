#include "resp/inline_args.h"

namespace raftkv::resp {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// Reads a double-quoted token body starting after the opening quote; i ends
// just past the closing quote. False when the quote is not closed properly.
bool read_double_quoted(std::string_view s, size_t& i, std::string& arg) {
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && hex_value(s[i + 2]) >= 0 &&
        hex_value(s[i + 3]) >= 0) {
      arg.push_back(static_cast<char>(hex_value(s[i + 2]) * 16 + hex_value(s[i + 3])));
      i += 3;
    } else if (c == '\\' && i + 1 < s.size()) {
      arg.push_back(unescape(s[++i]));
    } else if (c == '"') {
      ++i;
      return i == s.size() || is_blank(s[i]);
    } else {
      arg.push_back(c);
    }
  }
  return false;  // unterminated
}

bool read_single_quoted(std::string_view s, size_t& i, std::string& arg) {
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && s[i + 1] == '\'') {
      arg.push_back('\'');
      ++i;
    } else if (c == '\'') {
      ++i;
      return i == s.size() || is_blank(s[i]);
    } else {
      arg.push_back(c);
    }
  }
  return false;
}

}  // namespace

std::optional<std::vector<std::string>> split_inline_args(std::string_view line) {
  line = line.substr(0, line.find('\0'));
  std::vector<std::string> args;
  size_t i = 0;
  for (;;) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i == line.size()) return args;
    std::string arg;
    // A token is a run of plain bytes and quoted parts ("a"b is refused
    // below, but a"b c" is one argument, as in Redis).
    while (i < line.size()) {
      char c = line[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') break;
      ++i;
      bool closed = true;
      if (c == '"') {
        closed = read_double_quoted(line, i, arg);
      } else if (c == '\'') {
        closed = read_single_quoted(line, i, arg);
      } else {
        arg.push_back(c);
        continue;
      }
      if (!closed) return std::nullopt;
      break;  // a closing quote ends the token
    }
    args.push_back(std::move(arg));
  }
}

}  // namespace raftkv::resp

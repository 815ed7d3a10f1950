#include "resp/errors.h"

#include <algorithm>
#include <cctype>

namespace raftkv::resp::errors {
namespace {

// Redis formats arguments with printf's %.*s: they end at a NUL byte.
std::string_view c_string_prefix(std::string_view s, size_t max) {
  return s.substr(0, std::min(s.find('\0'), max));
}

}  // namespace

std::string unknown_command(const std::vector<std::string>& args) {
  // Like Redis: the name up to 128 bytes, then quoted arguments until the
  // list reaches 128 bytes.
  std::string quoted;
  for (size_t i = 1; i < args.size() && quoted.size() < 128; ++i) {
    size_t room = 128 - quoted.size();
    quoted += '\'';
    quoted += c_string_prefix(args[i], room);
    quoted += "' ";
  }
  std::string name = args.empty() ? std::string() : std::string(c_string_prefix(args[0], 128));
  return "ERR unknown command '" + name + "', with args beginning with: " + quoted;
}

std::string wrong_arity(std::string_view name) {
  return "ERR wrong number of arguments for '" + std::string(name) + "' command";
}

std::string unknown_subcommand(std::string_view command, std::string_view sub) {
  std::string upper(command);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return "ERR unknown subcommand '" + std::string(c_string_prefix(sub, 128)) + "'. Try " + upper +
         " HELP.";
}

}  // namespace raftkv::resp::errors

// Redis's error reply texts, for parse_command and for the server when it
// executes commands (so both use the same words as Redis).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace raftkv::resp::errors {

inline constexpr std::string_view kSyntax = "ERR syntax error";
inline constexpr std::string_view kNotInteger = "ERR value is not an integer or out of range";
inline constexpr std::string_view kOverflow = "ERR increment or decrement would overflow";
inline constexpr std::string_view kDecrementOverflow = "ERR decrement would overflow";
inline constexpr std::string_view kNoProto = "NOPROTO unsupported protocol version";
inline constexpr std::string_view kDbIndex = "ERR DB index is out of range";
inline constexpr std::string_view kNoExpiry =
    "ERR raftkv does not support expiry (EX, PX, EXAT, PXAT, KEEPTTL)";
inline constexpr std::string_view kClientName =
    "ERR Client names cannot contain spaces, newlines or special characters.";

// "ERR unknown command 'FOO', with args beginning with: 'a' 'b' "
std::string unknown_command(const std::vector<std::string>& args);
// "ERR wrong number of arguments for 'get' command"; name as Redis's
// fullname, lower case ("client|setname" for a subcommand).
std::string wrong_arity(std::string_view name);
// "ERR unknown subcommand 'foo'. Try CLIENT HELP."
std::string unknown_subcommand(std::string_view command, std::string_view sub);

}  // namespace raftkv::resp::errors

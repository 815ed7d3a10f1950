// Splits an inline command line (what telnet or `redis-cli` in inline mode
// sends: `SET "a key" 'v'`) into arguments the way Redis's sdssplitargs
// does: blanks separate; "double quotes" take \n \r \t \b \a \\ \" and \xHH
// escapes; 'single quotes' take only \'; a closing quote must be followed
// by a blank or the end of the line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raftkv::resp {

// nullopt on unbalanced quotes. Like Redis (a C string), the line ends at
// its first NUL byte.
std::optional<std::vector<std::string>> split_inline_args(std::string_view line);

}  // namespace raftkv::resp

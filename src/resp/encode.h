// RESP2 encoder: every function appends one value to an output buffer, so a
// server builds the replies of a pipelined batch into one write.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "resp/reply.h"

namespace raftkv::resp {

// "+s\r\n". CR and LF would break the framing, so they become spaces (as
// Redis does for status and error text).
void append_simple(std::string& out, std::string_view s);
// "-message\r\n"; the message carries its own code: "ERR syntax error",
// "NOPROTO unsupported protocol version". CR/LF become spaces.
void append_error(std::string& out, std::string_view message);
void append_integer(std::string& out, int64_t v);
// "$<len>\r\n<bytes>\r\n": binary safe.
void append_bulk(std::string& out, std::string_view bytes);
void append_null(std::string& out);        // "$-1\r\n"
void append_null_array(std::string& out);  // "*-1\r\n"
// "*<n>\r\n": followed by n values appended by the caller.
void append_array_header(std::string& out, size_t n);
// An array of bulk strings: a multi-value reply, or a command as a client
// sends it (append_bulk_array(out, {"SET", "k", "v"})).
void append_bulk_array(std::string& out, std::span<const std::string> items);
void append_bulk_array(std::string& out, std::initializer_list<std::string_view> items);
// Any reply, arrays recursively (kNull as "$-1").
void append_reply(std::string& out, const Reply& r);

}  // namespace raftkv::resp

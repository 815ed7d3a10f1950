// Bounds on what a peer may announce or send, so that a hostile or broken
// peer costs at most the bytes it actually sent.
#pragma once

#include <cstddef>

namespace raftkv::resp {

struct ParseLimits {
  // Largest bulk string ("$<n>"): Redis's proto-max-bulk-len default.
  size_t max_bulk_len = 512 * 1024 * 1024;
  // Most elements in one array ("*<n>").
  size_t max_array_len = 1024 * 1024;
  // Longest inline command, and longest "*<n>" / "$<n>" / simple-string
  // line: Redis's PROTO_INLINE_MAX_SIZE.
  size_t max_inline_len = 64 * 1024;
  // Deepest array nesting in a reply (ReplyParser only; requests are flat).
  size_t max_depth = 64;
};

}  // namespace raftkv::resp

// Request bodies for, and replies from, etcd 3.4's gRPC-gateway JSON API
// (POST /v3/kv/range, /v3/kv/put, /v3/kv/txn). Pure functions, no I/O.
//
// Gateway facts this relies on (checked against etcd 3.4.23):
//  - keys and values are base64; int64 fields come back as JSON strings;
//  - zero-valued fields are omitted: a missing key's range has no "kvs",
//    a failed txn has no "succeeded", an empty value has no "value";
//  - a VALUE compare on a missing key is always false, whatever the result
//    operator (EQUAL or NOT_EQUAL).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace raftkv::etcd {

std::string base64_encode(std::string_view in);
std::optional<std::string> base64_decode(std::string_view in);

// Linearizable (serializable=false is the default) single-key range.
std::string range_body(std::string_view key);
std::string put_body(std::string_view key, std::string_view value);
// One txn. Plain cas: if value == from then put else range (so the reply
// tells absent from different). create_if_not_exists: if value != from
// (false for a missing key) then range else put.
std::string cas_body(std::string_view key, std::string_view from, std::string_view to,
                     bool create_if_not_exists);

struct Outcome {
  enum class Kind { kOk, kNotFound, kMismatch, kBadReply } kind = Kind::kBadReply;
  std::string value;  // read: the value; mismatch: the current value; bad: why
};

Outcome decode_range(std::string_view reply);
Outcome decode_put(std::string_view reply);
Outcome decode_cas(std::string_view reply, bool create_if_not_exists);

}  // namespace raftkv::etcd

// The binary encoding of server::PeerMessage between raftkv servers, and its
// framing on a byte stream.
//
// Payload (one message):  u8 version (kWireVersion) | u8 kind | body
//   kind 0 raft::Message, 1 ForwardRequest, 2 ForwardReply (the variant's order).
// Integers are LEB128 varints (canonical: no overlong forms), strings and
// lists are a varint count followed by their bytes / items, bools and enums
// one byte each, checked against their range.
// Frame (on the socket):  u32 little-endian payload length | payload.
// The first frame of every peer connection is a Hello (its own layout, with
// a magic so a stray client is recognised at once).
//
// Decoding is total: any byte string either decodes or yields an error text;
// nothing is reserved before the remaining input proves it could be filled.
// Encoding is canonical, so encode(decode(b)) == b for every accepted b.
// Any change to the layout bumps kWireVersion; a node refuses frames of
// another version (a rolling upgrade across versions is not supported).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/types.h"

namespace raftkv::wire {

inline constexpr uint8_t kWireVersion = 2;  // 2: snapshot chunks carry the configuration
inline constexpr size_t kFrameHeaderBytes = 4;
inline constexpr size_t kDefaultMaxFrameBytes = 64u << 20;

// Appends the payload of `m` to `out` (no frame header).
void encode_to(const server::PeerMessage& m, std::string& out);
std::string encode(const server::PeerMessage& m);
// nullopt (and *error, when given, says why) unless `payload` is exactly one
// well-formed message.
std::optional<server::PeerMessage> decode(std::string_view payload, std::string* error);

// Appends one whole frame (header and payload) to `out`; returns the
// payload's size.
size_t append_frame(const server::PeerMessage& m, std::string& out);

// Who is speaking on a peer connection, and to whom.
struct Hello {
  raft::NodeId from;
  raft::NodeId to;
  friend bool operator==(const Hello&, const Hello&) = default;
};
inline constexpr std::string_view kHelloMagic = "RKVP";
std::string encode_hello(const Hello& h);  // the payload
void append_hello_frame(const Hello& h, std::string& out);
std::optional<Hello> decode_hello(std::string_view payload, std::string* error);

// Splits the next frame off the front of a stream buffer.
enum class FrameStatus {
  kFrame,     // *payload is the frame's payload; *consumed bytes of `buffer` used
  kNeedMore,  // the frame is not complete yet
  kTooLarge,  // the header announces more than max_frame_bytes: the stream is unusable
};
FrameStatus next_frame(std::string_view buffer, size_t max_frame_bytes, std::string_view* payload,
                       size_t* consumed);
// The payload length a complete header announces (buffer.size() >= 4).
uint32_t frame_length(std::string_view buffer);

}  // namespace raftkv::wire

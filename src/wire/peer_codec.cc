#include "wire/peer_codec.h"

#include <type_traits>

namespace raftkv::wire {
namespace {

enum Kind : uint8_t { kRaft = 0, kForwardRequest = 1, kForwardReply = 2 };

// The smallest encodings, used to bound counts before reserving.
constexpr size_t kMinEntryBytes = 4;  // term, index, type, data length

// ---- writing ----

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void put_u8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}
void put_bool(std::string& out, bool v) {
  put_u8(out, v ? 1 : 0);
}
void put_str(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}
void put_u32_le(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_raft(std::string& out, const raft::Message& m) {
  put_u8(out, static_cast<uint8_t>(m.type));
  put_str(out, m.from);
  put_str(out, m.to);
  for (uint64_t v : {m.term, m.log_term, m.index, m.commit}) put_varint(out, v);
  put_bool(out, m.reject);
  for (uint64_t v : {m.reject_hint, m.conflict_term, m.context}) put_varint(out, v);
  put_bool(out, m.last);
  put_str(out, m.data);
  put_str(out, m.config);
  put_varint(out, m.entries.size());
  for (const raft::Entry& e : m.entries) {
    put_varint(out, e.term);
    put_varint(out, e.index);
    put_u8(out, static_cast<uint8_t>(e.type));
    put_str(out, e.data);
  }
}

void put_body(std::string& out, const raft::Message& m) {
  put_u8(out, kRaft);
  put_raft(out, m);
}
void put_body(std::string& out, const server::ForwardRequest& f) {
  put_u8(out, kForwardRequest);
  put_varint(out, f.id);
  // The request is a log command: it travels in the log's own encoding.
  put_str(out, kv::encode(f.request));
}
void put_body(std::string& out, const server::ForwardReply& f) {
  put_u8(out, kForwardReply);
  put_varint(out, f.id);
  put_u8(out, static_cast<uint8_t>(f.reply.code));
  put_bool(out, f.reply.value.has_value());
  if (f.reply.value) put_str(out, *f.reply.value);
  put_str(out, f.reply.text);
  put_varint(out, static_cast<uint64_t>(f.reply.number));  // two's complement
}

// ---- reading ----

// A cursor over untrusted bytes: every read checks what is left, and the
// first failure sticks (later reads return zeros) with its reason.
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  size_t remaining() const { return in_.size() - pos_; }
  size_t pos() const { return pos_; }

  void fail(std::string what) {
    if (ok()) error_ = std::move(what) + " at byte " + std::to_string(pos_);
  }

  uint8_t u8(const char* what) {
    if (!ok()) return 0;
    if (remaining() < 1) {
      fail(std::string("truncated: missing ") + what);
      return 0;
    }
    return static_cast<uint8_t>(in_[pos_++]);
  }

  uint64_t varint(const char* what) {
    uint64_t v = 0;
    for (int shift = 0; ok(); shift += 7) {
      if (remaining() < 1) {
        fail(std::string("truncated varint ") + what);
        return 0;
      }
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      if (shift == 63 && b > 1) {
        fail(std::string("varint ") + what + " overflows 64 bits");
        return 0;
      }
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        if (b == 0 && shift > 0) fail(std::string("overlong varint ") + what);
        return ok() ? v : 0;
      }
    }
    return 0;
  }

  bool boolean(const char* what) {
    uint8_t b = u8(what);
    if (b > 1) fail(std::string("bool ") + what + " is " + std::to_string(b));
    return b == 1;
  }

  // An enum stored as one byte, valid when <= max.
  template <typename E>
  E enumeration(const char* what, E max) {
    uint8_t b = u8(what);
    if (b > static_cast<uint8_t>(max)) {
      fail(std::string("unknown ") + what + " " + std::to_string(b));
      return E{};
    }
    return static_cast<E>(b);
  }

  std::string str(const char* what) {
    uint64_t n = varint(what);
    if (!ok()) return {};
    if (n > remaining()) {
      fail(std::string("truncated ") + what + ": " + std::to_string(n) + " bytes announced, " +
           std::to_string(remaining()) + " left");
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }

  // A list count, checked against the bytes left for items of at least
  // `min_item_bytes` each.
  size_t count(const char* what, size_t min_item_bytes) {
    uint64_t n = varint(what);
    if (ok() && n > remaining() / min_item_bytes) {
      fail(std::string("count of ") + what + " " + std::to_string(n) + " exceeds the input");
      return 0;
    }
    return ok() ? static_cast<size_t>(n) : 0;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  std::string error_;
};

raft::Message get_raft(Reader& r) {
  raft::Message m;
  m.type = r.enumeration("raft message type", raft::MsgType::kTimeoutNow);
  m.from = r.str("from");
  m.to = r.str("to");
  m.term = r.varint("term");
  m.log_term = r.varint("log_term");
  m.index = r.varint("index");
  m.commit = r.varint("commit");
  m.reject = r.boolean("reject");
  m.reject_hint = r.varint("reject_hint");
  m.conflict_term = r.varint("conflict_term");
  m.context = r.varint("context");
  m.last = r.boolean("last");
  m.data = r.str("data");
  m.config = r.str("config");
  size_t n = r.count("entries", kMinEntryBytes);
  m.entries.reserve(n);
  for (size_t i = 0; i < n && r.ok(); ++i) {
    raft::Entry& e = m.entries.emplace_back();
    e.term = r.varint("entry term");
    e.index = r.varint("entry index");
    e.type = r.enumeration("entry type", raft::EntryType::kConfig);
    e.data = r.str("entry data");
  }
  return m;
}

server::ForwardRequest get_forward_request(Reader& r) {
  server::ForwardRequest f;
  f.id = r.varint("forward id");
  std::string command = r.str("request");
  if (!r.ok()) return f;
  std::optional<kv::Command> c = kv::decode(command);
  if (!c) {
    r.fail("undecodable forwarded request");
  } else {
    f.request = std::move(*c);
  }
  return f;
}

server::ForwardReply get_forward_reply(Reader& r) {
  server::ForwardReply f;
  f.id = r.varint("forward id");
  f.reply.code = r.enumeration("reply code", server::ReplyCode::kNotAnInteger);
  if (r.boolean("has value")) f.reply.value = r.str("value");
  f.reply.text = r.str("text");
  f.reply.number = static_cast<int64_t>(r.varint("reply number"));
  return f;
}

std::optional<server::PeerMessage> get_body(Reader& r) {
  uint8_t kind = r.u8("kind");
  if (!r.ok()) return std::nullopt;
  switch (kind) {
    case kRaft:
      return get_raft(r);
    case kForwardRequest:
      return get_forward_request(r);
    case kForwardReply:
      return get_forward_reply(r);
  }
  r.fail("unknown message kind " + std::to_string(kind));
  return std::nullopt;
}

bool check_version(Reader& r) {
  uint8_t v = r.u8("version");
  if (r.ok() && v != kWireVersion) {
    r.fail("unsupported wire version " + std::to_string(v) + " (this build speaks " +
           std::to_string(kWireVersion) + ")");
  }
  return r.ok();
}

bool finish(Reader& r, std::string* error) {
  if (r.ok() && r.remaining() > 0) r.fail(std::to_string(r.remaining()) + " trailing bytes");
  if (!r.ok() && error) *error = r.error();
  return r.ok();
}

}  // namespace

void encode_to(const server::PeerMessage& m, std::string& out) {
  put_u8(out, kWireVersion);
  std::visit([&out](const auto& body) { put_body(out, body); }, m);
}

std::string encode(const server::PeerMessage& m) {
  std::string out;
  encode_to(m, out);
  return out;
}

std::optional<server::PeerMessage> decode(std::string_view payload, std::string* error) {
  Reader r(payload);
  std::optional<server::PeerMessage> m;
  if (check_version(r)) m = get_body(r);
  if (!finish(r, error)) return std::nullopt;
  return m;
}

namespace {
// Writes the header for everything appended after `start` + 4.
void patch_length(std::string& out, size_t start) {
  size_t n = out.size() - start - kFrameHeaderBytes;
  for (int i = 0; i < 4; ++i) out[start + i] = static_cast<char>((n >> (8 * i)) & 0xFF);
}
}  // namespace

size_t append_frame(const server::PeerMessage& m, std::string& out) {
  size_t start = out.size();
  put_u32_le(out, 0);
  encode_to(m, out);
  patch_length(out, start);
  return out.size() - start - kFrameHeaderBytes;
}

std::string encode_hello(const Hello& h) {
  std::string out(kHelloMagic);
  put_u8(out, kWireVersion);
  put_str(out, h.from);
  put_str(out, h.to);
  return out;
}

void append_hello_frame(const Hello& h, std::string& out) {
  size_t start = out.size();
  put_u32_le(out, 0);
  out += encode_hello(h);
  patch_length(out, start);
}

std::optional<Hello> decode_hello(std::string_view payload, std::string* error) {
  if (payload.substr(0, kHelloMagic.size()) != kHelloMagic) {
    if (error) *error = "not a raftkv peer hello (bad magic)";
    return std::nullopt;
  }
  Reader r(payload.substr(kHelloMagic.size()));
  Hello h;
  if (check_version(r)) {
    h.from = r.str("hello from");
    h.to = r.str("hello to");
  }
  if (!finish(r, error)) return std::nullopt;
  return h;
}

uint32_t frame_length(std::string_view buffer) {
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n |= static_cast<uint32_t>(static_cast<uint8_t>(buffer[i])) << (8 * i);
  return n;
}

FrameStatus next_frame(std::string_view buffer, size_t max_frame_bytes, std::string_view* payload,
                       size_t* consumed) {
  if (buffer.size() < kFrameHeaderBytes) return FrameStatus::kNeedMore;
  uint32_t n = frame_length(buffer);
  if (n > max_frame_bytes) return FrameStatus::kTooLarge;
  if (buffer.size() - kFrameHeaderBytes < n) return FrameStatus::kNeedMore;
  *payload = buffer.substr(kFrameHeaderBytes, n);
  *consumed = kFrameHeaderBytes + n;
  return FrameStatus::kFrame;
}

}  // namespace raftkv::wire

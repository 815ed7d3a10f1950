#include "net/peer_transport.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>

namespace raftkv::net {
namespace {

std::string address_text(const PeerAddress& a) {
  return a.host + ":" + std::to_string(a.port);
}

uint64_t seed_of(uint64_t seed) {
  return seed ? seed : std::random_device{}();
}

}  // namespace

PeerTransport::PeerTransport(EventLoop& loop, raft::NodeId self,
                             std::map<raft::NodeId, PeerAddress> peers, TransportOptions options,
                             Deliver deliver)
    : loop_(loop),
      self_(std::move(self)),
      options_(std::move(options)),
      deliver_(std::move(deliver)),
      // The callbacks run only once the loop turns, when every member exists.
      inbound_(
          loop,
          TcpCallbacks{.on_open = [this](ConnId c) { in_[c]; },
                       .on_data = [this](ConnId c, std::string_view b) { on_inbound_data(c, b); },
                       .on_close = [this](ConnId c) { on_inbound_closed(c); }},
          TcpServerOptions{.log = options_.log}),
      rng_(seed_of(options_.seed)) {
  if (!options_.log) options_.log = [](std::string_view) {};
  auto me = peers.find(self_);
  if (me == peers.end()) {
    throw std::invalid_argument("peer transport: " + self_ + " is not in its own peer list");
  }
  self_address_ = me->second;
  for (auto& [id, address] : peers) {
    if (id == self_) continue;
    Outbound& p = out_[id];
    p.address = address;
    p.backoff_ms = options_.backoff_initial_ms;
  }
}

PeerTransport::~PeerTransport() {
  for (auto& [id, p] : out_) {
    if (p.fd) loop_.remove(p.fd.get());
  }
}

void PeerTransport::listen() {
  try {
    inbound_.listen(self_address_.host, self_address_.port);
  } catch (const std::exception& e) {
    throw std::runtime_error("node " + self_ + ": peer port: " + e.what());
  }
}

void PeerTransport::set_peer_address(const raft::NodeId& id, PeerAddress address) {
  if (id == self_) {
    self_address_ = std::move(address);
    return;
  }
  auto it = out_.find(id);
  if (it == out_.end()) return;
  Outbound& p = it->second;
  p.address = std::move(address);
  if (p.fd) {
    loop_.remove(p.fd.get());
    p.fd.reset();
    drop_queue(p);
  }
  p.state = Outbound::State::kIdle;
  p.stats.connected = false;
  p.next_attempt_ms = now_ms_;
  p.backoff_ms = options_.backoff_initial_ms;
}

void PeerTransport::add_peer(const raft::NodeId& id, PeerAddress address) {
  if (id == self_) return;
  auto it = out_.find(id);
  if (it != out_.end()) {
    const PeerAddress& old = it->second.address;
    if (old.host != address.host || old.port != address.port) set_peer_address(id, address);
    return;
  }
  Outbound& p = out_[id];
  p.address = std::move(address);
  p.backoff_ms = options_.backoff_initial_ms;
  p.next_attempt_ms = now_ms_;
  strangers_logged_.erase(id);
  options_.log("now talking to " + id + " at " + address_text(p.address));
}

void PeerTransport::remove_peer(const raft::NodeId& id) {
  auto it = out_.find(id);
  if (it == out_.end()) return;
  // Inbound first: its close callback still updates the peer's stats.
  if (auto by = inbound_by_peer_.find(id); by != inbound_by_peer_.end()) inbound_.close(by->second);
  Outbound& p = it->second;
  if (p.fd) loop_.remove(p.fd.get());
  out_.erase(it);
  options_.log("no longer talking to " + id);
}

std::vector<raft::NodeId> PeerTransport::peer_ids() const {
  std::vector<raft::NodeId> ids;
  for (const auto& [id, p] : out_) ids.push_back(id);
  return ids;
}

// ---- sending ----

void PeerTransport::send(const raft::NodeId& to, const server::PeerMessage& m) {
  auto it = out_.find(to);
  if (it == out_.end()) {
    options_.log("send to " + (to == self_ ? "itself" : "unknown peer " + to) + " dropped");
    return;
  }
  Outbound& p = it->second;
  size_t before = p.queue.size();
  size_t payload = wire::append_frame(m, p.queue);
  size_t frame = p.queue.size() - before;
  bool too_big = payload > options_.max_frame_bytes;
  if (too_big || p.queue.size() - p.queue_offset > options_.max_queue_bytes) {
    p.queue.resize(before);
    ++p.stats.dropped;
    if (too_big) {
      options_.log("message of " + std::to_string(payload) + " bytes to " + to +
                   " exceeds the frame limit; dropped");
    }
    return;
  }
  p.frames.push_back({frame, true});
  p.stats.queued_bytes = p.queue.size() - p.queue_offset;
  ++p.stats.queued_messages;
  if (p.state == Outbound::State::kConnected) {
    want_write(p);
  } else if (p.state == Outbound::State::kIdle && now_ms_ >= p.next_attempt_ms) {
    start_connect(to, p);
  }
}

void PeerTransport::want_write(Outbound& p) {
  uint32_t want = EPOLLIN | (p.queue_offset < p.queue.size() ? uint32_t{EPOLLOUT} : 0u);
  if (want == p.events) return;  // one epoll_ctl per change, not per message
  p.events = want;
  loop_.modify(p.fd.get(), want);
}

void PeerTransport::flush() {
  for (auto& [id, p] : out_) {
    if (p.state != Outbound::State::kConnected || p.queue_offset == p.queue.size()) continue;
    if (!write_some(p)) {
      fail(id, p, "write: " + errno_text(errno));
      continue;
    }
    want_write(p);
  }
}

bool PeerTransport::write_some(Outbound& p) {
  while (p.queue_offset < p.queue.size()) {
    ssize_t n = ::send(p.fd.get(), p.queue.data() + p.queue_offset, p.queue.size() - p.queue_offset,
                       MSG_NOSIGNAL);
    if (n > 0) {
      consumed(p, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return false;
  }
  if (p.queue_offset == p.queue.size()) {
    p.queue.clear();
    p.queue_offset = 0;
  } else if (p.queue_offset > (1u << 20) && p.queue_offset * 2 > p.queue.size()) {
    p.queue.erase(0, p.queue_offset);
    p.queue_offset = 0;
  }
  return true;
}

// Counts the frames the kernel took.
void PeerTransport::consumed(Outbound& p, size_t n) {
  p.queue_offset += n;
  p.stats.bytes_sent += n;
  while (n > 0 && !p.frames.empty()) {
    QueuedFrame& f = p.frames.front();
    size_t take = std::min(n, f.bytes - p.head_written);
    p.head_written += take;
    n -= take;
    if (p.head_written < f.bytes) break;
    if (f.message) {
      ++p.stats.sent;
      --p.stats.queued_messages;
    }
    p.frames.pop_front();
    p.head_written = 0;
  }
  p.stats.queued_bytes = p.queue.size() - p.queue_offset;
}

void PeerTransport::drop_queue(Outbound& p) {
  for (const QueuedFrame& f : p.frames) p.stats.dropped += f.message ? 1 : 0;
  p.frames.clear();
  p.head_written = 0;
  p.queue.clear();
  p.queue_offset = 0;
  p.stats.queued_bytes = 0;
  p.stats.queued_messages = 0;
}

// ---- connecting ----

void PeerTransport::tick(int64_t now_ms) {
  now_ms_ = now_ms;
  for (auto& [id, p] : out_) {
    if (p.state == Outbound::State::kIdle && now_ms >= p.next_attempt_ms) {
      start_connect(id, p);
    } else if (p.quiet && settled(p)) {
      options_.log("connected to " + id + " at " + address_text(p.address));
      p.quiet = false;
    } else if (p.state == Outbound::State::kConnecting &&
               now_ms - p.connect_started_ms >= options_.connect_timeout_ms) {
      fail(id, p, "connect timed out");
    }
  }
  std::vector<ConnId> silent;
  for (auto& [conn, in] : in_) {
    if (in.opened_ms < 0) in.opened_ms = now_ms;  // accepted since the last tick
    if (in.from.empty() && now_ms - in.opened_ms >= options_.hello_timeout_ms) {
      silent.push_back(conn);
    }
  }
  for (ConnId conn : silent)
    reject(conn, "no hello within " + std::to_string(options_.hello_timeout_ms) + " ms");
}

void PeerTransport::start_connect(const raft::NodeId& id, Outbound& p) {
  std::string error;
  Fd fd = net::start_connect(p.address.host, p.address.port, &error);
  if (!fd) {
    p.state = Outbound::State::kConnecting;  // so fail() applies the backoff
    return fail(id, p, error);
  }
  p.fd = std::move(fd);
  p.state = Outbound::State::kConnecting;
  p.connect_started_ms = now_ms_;
  // Whatever waited for this connection goes after the hello.
  std::string hello;
  wire::append_hello_frame({self_, id}, hello);
  p.queue.insert(p.queue_offset, hello);
  p.frames.push_front({hello.size(), false});
  p.stats.queued_bytes = p.queue.size() - p.queue_offset;
  p.events = EPOLLOUT;
  loop_.add(p.fd.get(), p.events, [this, id](uint32_t events) { on_outbound_ready(id, events); });
}

void PeerTransport::on_outbound_ready(const raft::NodeId& id, uint32_t events) {
  auto it = out_.find(id);
  if (it == out_.end() || !it->second.fd) return;
  Outbound& p = it->second;
  if (p.state == Outbound::State::kConnecting) {
    int err = connect_error(p.fd.get());
    if (err != 0)
      return fail(id, p, "connect to " + address_text(p.address) + ": " + errno_text(err));
    on_connected(id, p);
  }
  if (events & EPOLLIN) {
    // The receiver never writes: readable means closed (or a stranger).
    char scratch[512];
    ssize_t n = ::recv(p.fd.get(), scratch, sizeof scratch, 0);
    if (n == 0) return fail(id, p, "closed by the peer");
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      return fail(id, p, "read: " + errno_text(errno));
    }
  }
  if (events & (EPOLLERR | EPOLLHUP)) {
    return fail(id, p, "connection error: " + errno_text(connect_error(p.fd.get())));
  }
  if (!write_some(p)) return fail(id, p, "write: " + errno_text(errno));
  want_write(p);
}

void PeerTransport::on_connected(const raft::NodeId&, Outbound& p) {
  p.state = Outbound::State::kConnected;
  p.stats.connected = true;
  if (p.stats.connects++ > 0) ++p.stats.reconnects;
  p.connected_ms = now_ms_;
}

// Up for a while: the peer takes us (see the header).
bool PeerTransport::settled(const Outbound& p) const {
  return p.state == Outbound::State::kConnected &&
         now_ms_ - p.connected_ms >= options_.backoff_max_ms;
}

void PeerTransport::fail(const raft::NodeId& id, Outbound& p, const std::string& why) {
  bool was_connected = p.state == Outbound::State::kConnected;
  if (settled(p)) p.backoff_ms = options_.backoff_initial_ms;
  if (p.fd) {
    loop_.remove(p.fd.get());
    p.fd.reset();
  }
  if (!was_connected) ++p.stats.connect_failures;
  p.state = Outbound::State::kIdle;
  p.stats.connected = false;
  drop_queue(p);
  std::uniform_int_distribution<int64_t> jitter(p.backoff_ms / 2, p.backoff_ms);
  int64_t delay = jitter(rng_);
  p.next_attempt_ms = now_ms_ + delay;
  p.backoff_ms = std::min(p.backoff_ms * 2, options_.backoff_max_ms);
  if (!p.quiet) {
    options_.log((was_connected ? "connection to " : "cannot connect to ") + id + " (" +
                 address_text(p.address) + ") " + (was_connected ? "lost: " : "") + why +
                 "; retrying with backoff (further failures not logged)");
    p.quiet = true;
  }
}

// ---- receiving ----

void PeerTransport::reject(ConnId conn, const std::string& why) {
  ++rejected_;
  options_.log("peer connection from " + inbound_.peer_address(conn) + " closed: " + why);
  inbound_.close(conn);
}

void PeerTransport::on_inbound_data(ConnId conn, std::string_view bytes) {
  auto it = in_.find(conn);
  if (it == in_.end()) return;
  it->second.buffer.append(bytes);
  size_t used_total = 0;
  while (true) {
    it = in_.find(conn);  // a delivery may have closed it
    if (it == in_.end()) return;
    Inbound& in = it->second;
    std::string_view rest = std::string_view(in.buffer).substr(used_total);
    std::string_view payload;
    size_t used = 0;
    wire::FrameStatus status = wire::next_frame(rest, options_.max_frame_bytes, &payload, &used);
    if (status == wire::FrameStatus::kTooLarge) {
      return reject(conn, "frame of " + std::to_string(wire::frame_length(rest)) +
                              " bytes exceeds the limit of " +
                              std::to_string(options_.max_frame_bytes));
    }
    if (status == wire::FrameStatus::kNeedMore) {
      in.buffer.erase(0, used_total);
      return;
    }
    used_total += used;
    if (!in.from.empty()) {
      Outbound& from = out_[in.from];
      from.stats.bytes_received += used;
    }
    if (!handle_frame(conn, in, payload)) return;
  }
}

bool PeerTransport::handle_frame(ConnId conn, Inbound& in, std::string_view payload) {
  if (in.from.empty()) return accept_hello(conn, in, payload);
  std::string error;
  std::optional<server::PeerMessage> m = wire::decode(payload, &error);
  if (!m) {
    reject(conn, "from " + in.from + ": undecodable frame: " + error);
    return false;
  }
  if (auto* r = std::get_if<raft::Message>(&*m); r && r->from != in.from) {
    reject(conn, "raft message from " + r->from + " on " + in.from + "'s connection");
    return false;
  }
  raft::NodeId from = in.from;  // `in` may not survive the delivery
  ++out_[from].stats.received;
  deliver_(from, std::move(*m));
  return true;
}

bool PeerTransport::accept_hello(ConnId conn, Inbound& in, std::string_view payload) {
  std::string error;
  std::optional<wire::Hello> h = wire::decode_hello(payload, &error);
  if (!h) {
    reject(conn, "bad hello: " + error);
    return false;
  }
  if (h->to != self_) {
    reject(conn, "hello for " + h->to + ", but this is " + self_);
    return false;
  }
  auto peer = out_.find(h->from);
  if (h->from == self_ || peer == out_.end()) {
    if (!strangers_logged_.insert(h->from).second) {
      ++rejected_;
      inbound_.close(conn);
      return false;
    }
    reject(conn, "hello from unknown node " + h->from + " (further ones not logged)");
    return false;
  }
  // It is up: if we are waiting out a backoff before dialling it, dial now.
  if (peer->second.state == Outbound::State::kIdle) {
    peer->second.next_attempt_ms = std::min(peer->second.next_attempt_ms, now_ms_);
    peer->second.backoff_ms = options_.backoff_initial_ms;
  }
  in.from = h->from;
  auto [by, fresh] = inbound_by_peer_.try_emplace(h->from, conn);
  if (!fresh) {
    ConnId older = by->second;
    by->second = conn;
    in_[older].from.clear();  // so its on_close leaves the new entry alone
    inbound_.close(older);
  }
  out_[h->from].stats.inbound_connected = true;
  return true;
}

void PeerTransport::on_inbound_closed(ConnId conn) {
  auto it = in_.find(conn);
  if (it == in_.end()) return;
  auto by = inbound_by_peer_.find(it->second.from);
  if (by != inbound_by_peer_.end() && by->second == conn) {
    out_[by->first].stats.inbound_connected = false;
    inbound_by_peer_.erase(by);
  }
  in_.erase(it);
}

std::map<raft::NodeId, PeerStats> PeerTransport::stats() const {
  std::map<raft::NodeId, PeerStats> s;
  for (const auto& [id, p] : out_) s[id] = p.stats;
  return s;
}

}  // namespace raftkv::net

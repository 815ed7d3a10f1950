// Server-to-server messaging for serve mode: server::PeerMessage over TCP,
// in the binary frames of src/wire.
//
// Connections are one-directional. Each node dials one connection to every
// other node and only writes on it; it accepts the others' connections on
// its own address and only reads from them. The first frame on a connection
// is a Hello (from, to): the receiver drops the connection (and logs why) if
// `to` is not itself or `from` is not a current peer, and likewise on an
// undecodable frame, a frame over max_frame_bytes, a raft::Message whose
// `from` is not the hello's, or no hello within hello_timeout_ms. A new
// hello from a peer replaces that peer's older inbound connection.
//
// send() never blocks: it encodes the message into the peer's send queue,
// which the loop writes when the socket is writable (flush() writes at
// once). Drops, counted in PeerStats::dropped (Raft retransmits what
// matters, so losing messages is safe; blocking the core is not):
//  - a message that would take the queue past max_queue_bytes is dropped
//    (the newest is dropped; what is queued stays, in order);
//  - a message whose frame exceeds max_frame_bytes (the receiver would
//    refuse it);
//  - when a connection breaks or a connect attempt fails, everything still
//    queued for that peer (possibly half written) is dropped: it is stale by
//    the time a new connection exists. Messages sent while no connection is
//    up wait in the queue for the next attempt.
// The set of peers may change at run time (membership changes): add_peer()
// starts dialling a new one and accepting its hello, remove_peer() closes
// both directions and forgets it. A hello from a peer we are backing off
// from cuts the backoff short: it is up again.
// Reconnects use exponential backoff (backoff_initial_ms doubling up to
// backoff_max_ms, each delay drawn uniformly from [d/2, d]); a connect that
// does not complete in connect_timeout_ms counts as failed. A connection
// counts as working (backoff reset, recovery logged) only once it has
// stayed up for backoff_max_ms: a peer that accepts and at once closes
// (it refuses our hello: it removed us, or has not added us yet) is
// redialled at the slowest rate, quietly. Time comes only from tick(now_ms).
//
// Memory per peer: its send queue (<= max_queue_bytes) and, per inbound
// connection, one partial frame (< max_frame_bytes + 4) plus one read chunk.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/event_loop.h"
#include "net/socket.h"
#include "net/tcp_server.h"
#include "raft/types.h"
#include "server/types.h"
#include "wire/peer_codec.h"

namespace raftkv::net {

// An IPv4 literal ("127.0.0.1", "0.0.0.0" to listen on all) or "localhost".
struct PeerAddress {
  std::string host;
  uint16_t port = 0;
};

struct TransportOptions {
  size_t max_frame_bytes = wire::kDefaultMaxFrameBytes;  // 64 MiB, both directions
  size_t max_queue_bytes = 16u << 20;
  int64_t backoff_initial_ms = 20;
  int64_t backoff_max_ms = 1000;
  int64_t connect_timeout_ms = 1000;
  int64_t hello_timeout_ms = 5000;
  uint64_t seed = 0;  // backoff jitter; 0: random
  LogFn log = stderr_log("peer");
};

struct PeerStats {
  bool connected = false;          // our outbound connection is up (hello queued)
  bool inbound_connected = false;  // the peer's connection to us passed its hello
  uint64_t queued_bytes = 0;
  uint64_t queued_messages = 0;
  uint64_t sent = 0;  // messages fully handed to the kernel
  uint64_t received = 0;
  uint64_t dropped = 0;
  uint64_t connects = 0;    // outbound connections established
  uint64_t reconnects = 0;  // ...after the first one
  uint64_t connect_failures = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

class PeerTransport {
 public:
  using Deliver = std::function<void(const raft::NodeId& from, server::PeerMessage)>;

  // `peers` includes `self` (its address is where listen() binds).
  PeerTransport(EventLoop& loop, raft::NodeId self, std::map<raft::NodeId, PeerAddress> peers,
                TransportOptions options, Deliver deliver);
  ~PeerTransport();
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Binds self's address; throws std::runtime_error naming node, address and
  // reason. With port 0 the kernel picks one: see listen_port().
  void listen();
  uint16_t listen_port() const { return inbound_.port(); }
  // Points `id` at a new address (tests with ephemeral ports); any current
  // outbound connection to it is closed and redialled.
  void set_peer_address(const raft::NodeId& id, PeerAddress address);
  // Starts talking to `id` at `address`; for a known peer, the same as
  // set_peer_address() when the address differs, else nothing.
  void add_peer(const raft::NodeId& id, PeerAddress address);
  // Closes both connections with `id`, drops its queue and stats, and
  // refuses its hellos from now on. Not for self.
  void remove_peer(const raft::NodeId& id);
  bool has_peer(const raft::NodeId& id) const { return out_.count(id) > 0; }
  std::vector<raft::NodeId> peer_ids() const;  // every peer but self

  // Queues `m` for `to` (see the drop rules above); the loop writes it when
  // the socket is writable. Sends to self or an unknown id are logged and
  // ignored.
  void send(const raft::NodeId& to, const server::PeerMessage& m);
  // Writes every peer's queue now, as far as the sockets take it: call after
  // a batch of send()s for the lowest latency.
  void flush();
  // Drives reconnects and timeouts; call every loop turn (or tick).
  void tick(int64_t now_ms);

  std::map<raft::NodeId, PeerStats> stats() const;  // every peer but self
  uint64_t rejected_connections() const { return rejected_; }
  size_t inbound_connections() const { return inbound_.connection_count(); }

 private:
  struct QueuedFrame {
    size_t bytes;
    bool message;  // false: the hello
  };
  struct Outbound {
    enum class State { kIdle, kConnecting, kConnected };
    PeerAddress address;
    State state = State::kIdle;
    Fd fd;
    uint32_t events = 0;  // registered with the loop
    std::string queue;    // whole frames, from queue_offset on
    size_t queue_offset = 0;
    std::deque<QueuedFrame> frames;
    size_t head_written = 0;  // bytes of frames.front() already written
    int64_t backoff_ms = 0;
    int64_t next_attempt_ms = 0;
    int64_t connect_started_ms = 0;
    int64_t connected_ms = 0;
    bool quiet = false;  // failure already logged; stay quiet until it works again
    PeerStats stats;
  };
  struct Inbound {
    std::string buffer;
    raft::NodeId from;       // empty until the hello
    int64_t opened_ms = -1;  // stamped by the first tick() after the accept
  };

  void start_connect(const raft::NodeId& id, Outbound& p);
  void on_outbound_ready(const raft::NodeId& id, uint32_t events);
  void on_connected(const raft::NodeId& id, Outbound& p);
  void fail(const raft::NodeId& id, Outbound& p, const std::string& why);
  bool settled(const Outbound& p) const;
  bool write_some(Outbound& p);  // false: the connection broke
  void consumed(Outbound& p, size_t n);
  void drop_queue(Outbound& p);
  void want_write(Outbound& p);

  void on_inbound_data(ConnId conn, std::string_view bytes);
  // false: the connection was closed
  bool handle_frame(ConnId conn, Inbound& in, std::string_view payload);
  bool accept_hello(ConnId conn, Inbound& in, std::string_view payload);
  void reject(ConnId conn, const std::string& why);
  void on_inbound_closed(ConnId conn);

  EventLoop& loop_;
  raft::NodeId self_;
  PeerAddress self_address_;
  TransportOptions options_;
  Deliver deliver_;
  std::map<raft::NodeId, Outbound> out_;
  TcpServer inbound_;
  std::unordered_map<ConnId, Inbound> in_;
  std::map<raft::NodeId, ConnId> inbound_by_peer_;
  std::mt19937_64 rng_;
  int64_t now_ms_ = 0;
  uint64_t rejected_ = 0;
  // Unknown nodes whose hellos were refused: logged once each (a removed
  // server keeps dialling us).
  std::set<raft::NodeId> strangers_logged_;
};

}  // namespace raftkv::net

// Serve mode: one raftkv server as a network service. The same server core
// as the Maelstrom mode, driven by an epoll loop, with three ports: peers
// (binary Raft frames over TCP, net/peer_transport.h), clients (the Redis
// protocol, serve/redis_session.h) and, optionally, Prometheus metrics.
//
// One thread. Each loop turn reads whatever is ready (peer messages and
// client commands go straight into the core), ticks, lets the core drive
// Raft once for the whole batch (one fsync covers every write that arrived
// in the turn), then writes replies and peer frames.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "net/event_loop.h"
#include "net/peer_transport.h"
#include "net/tcp_server.h"
#include "serve/metrics.h"
#include "serve/options.h"
#include "serve/redis_session.h"
#include "serve/timed_log.h"
#include "server/core.h"
#include "storage/kv_store.h"
#include "storage/log_store.h"

namespace raftkv::serve {

// Runs a server until SIGTERM/SIGINT (request_stop); returns the exit code:
// 0 after a clean stop, 1 when it cannot start or must fail-stop.
int serve(const ServeOptions& options);
// Async-signal-safe.
void request_stop();

class Server final : public server::Outbox, public SessionHost {
 public:
  explicit Server(ServeOptions options);  // throws on a bad data dir or port
  ~Server() override;
  int run();

  // server::Outbox
  void send(const raft::NodeId& to, server::PeerMessage m) override;
  void reply(server::RequestId id, server::ClientReply r) override;
  void flush() override;
  // SessionHost
  void submit(uint64_t client_id, uint64_t seq, server::ClientRequest request) override;
  void submit_admin(uint64_t client_id, uint64_t seq, server::AdminRequest request) override;
  void append_info(std::string& out, const resp::Info& info) override;
  bool is_leader() const override;
  std::vector<std::string> members() const override;

 private:
  using Millis = server::Millis;
  struct InFlight {
    net::ConnId conn;
    uint64_t seq;
    bool admin = false;
  };

  Millis now() const;
  void log(LogLevel level, std::string_view line) const;
  void on_client_data(net::ConnId id, std::string_view bytes);
  void write_client(net::ConnId id);
  void write_dirty_clients();
  void after_turn(Millis now);
  void begin_drain(Millis now);
  bool drained() const;
  std::string render_metrics();
  // Membership (serve/membership.cc).
  std::optional<net::PeerAddress> address_of(const raft::NodeId& id) const;
  std::string address_text(const raft::NodeId& id) const;
  void sync_peers(Millis now);
  void note_membership();
  std::string with_leader_address(std::string text) const;
  std::vector<std::pair<std::string, std::string>> membership_info() const;
  void render_membership_metrics(std::string& out) const;

  ServeOptions opts_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  net::EventLoop loop_;
  Histogram fsync_seconds_;
  std::unique_ptr<storage::LogStore> log_store_;
  std::unique_ptr<TimedLog> timed_log_;
  std::unique_ptr<storage::KvStore> kv_store_;
  std::unique_ptr<net::PeerTransport> peers_;
  std::unique_ptr<server::Core> core_;
  std::unique_ptr<net::TcpServer> clients_;
  std::unique_ptr<net::TcpServer> metrics_http_;
  std::unordered_map<net::ConnId, std::unique_ptr<RedisSession>> sessions_;
  std::unordered_map<net::ConnId, std::string> http_requests_;
  std::vector<net::ConnId> dirty_;  // sessions with output to write
  std::unordered_map<server::RequestId, InFlight> in_flight_;
  server::RequestId next_request_ = 1;

  // Operator counters.
  raft::NodeId last_leader_;
  uint64_t leader_changes_ = 0;
  uint64_t client_commands_ = 0;
  uint64_t connections_total_ = 0;
  Millis next_stats_ = 0;
  // The peers talked to follow the configuration (sync_peers).
  std::optional<uint64_t> peers_config_index_;
  Millis next_peer_sweep_ = 0;
  bool was_member_ = true;  // so a server that starts outside says so
  bool draining_ = false;
  Millis drain_deadline_ = 0;
};

}  // namespace raftkv::serve

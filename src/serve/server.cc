#include "serve/server.h"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "resp/replies.h"

namespace raftkv::serve {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_stop{false};
std::atomic<net::EventLoop*> g_loop{nullptr};

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kError:
      return "ERROR";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kDebug:
      return "DEBUG";
  }
  return "?";
}

// Buckets for fsync latency, in seconds: 100 µs to 2 s.
std::vector<double> fsync_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2};
}

// Group commit at work: log entries made durable per fsync, so far.
double entries_per_fsync(const storage::LogStorage& log) {
  uint64_t syncs = log.syncs();
  return syncs == 0 ? 0.0 : static_cast<double>(log.synced_entries()) / static_cast<double>(syncs);
}

}  // namespace

void request_stop() {
  g_stop.store(true);
  if (net::EventLoop* loop = g_loop.load()) loop->wake();
}

Server::Server(ServeOptions options) : opts_(std::move(options)), fsync_seconds_(fsync_buckets()) {
  fs::path dir = fs::path(opts_.data_dir) / opts_.id;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  log_store_ = std::make_unique<storage::LogStore>((dir / "log").string());
  timed_log_ = std::make_unique<TimedLog>(*log_store_, fsync_seconds_);
  kv_store_ = std::make_unique<storage::KvStore>((dir / "kv").string());
  log(LogLevel::kInfo, fmt::format("data in {}", dir.string()));

  net::TransportOptions to;
  to.max_queue_bytes = opts_.max_queue_bytes;
  to.seed = opts_.core.seed;
  to.log = [this](std::string_view line) {
    // The transport reports trouble, and recovery and peers coming and going.
    bool news = line.rfind("connected", 0) == 0 || line.find("talking to") != std::string::npos;
    log(news ? LogLevel::kInfo : LogLevel::kWarn, line);
  };
  peers_ = std::make_unique<net::PeerTransport>(
      loop_, opts_.id, opts_.peers, to, [this](const raft::NodeId& from, server::PeerMessage m) {
        core_->peer_message(from, std::move(m), now());
      });

  std::vector<raft::NodeId> members;
  for (const auto& [id, address] : opts_.peers) members.push_back(id);
  server::CoreOptions co = opts_.core;
  co.log = [this](const std::string& line) { log(LogLevel::kInfo, line); };
  core_ =
      std::make_unique<server::Core>(co, opts_.id, members, *timed_log_, *kv_store_, *this, now());
  peers_->listen();

  net::TcpCallbacks cb;
  cb.on_open = [this](net::ConnId id) {
    ++connections_total_;
    sessions_[id] = std::make_unique<RedisSession>(id, *this, opts_.limits);
  };
  cb.on_data = [this](net::ConnId id, std::string_view bytes) { on_client_data(id, bytes); };
  cb.on_close = [this](net::ConnId id) { sessions_.erase(id); };
  cb.on_read_closed = [this](net::ConnId id) {
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return;
    it->second->end_of_input();
    dirty_.push_back(id);  // closes at once if nothing is owed
  };
  net::TcpServerOptions so;
  so.log = [this](std::string_view line) { log(LogLevel::kWarn, line); };
  clients_ = std::make_unique<net::TcpServer>(loop_, cb, so);
  clients_->listen(opts_.client.host, opts_.client.port);

  if (opts_.metrics) {
    net::TcpCallbacks mc;
    mc.on_data = [this](net::ConnId id, std::string_view bytes) {
      std::string& req = http_requests_[id];
      req.append(bytes);
      std::string response = http_response(req, [this] { return render_metrics(); });
      if (response.empty()) return;
      metrics_http_->send(id, response);
      metrics_http_->close_after_flush(id);
    };
    mc.on_close = [this](net::ConnId id) { http_requests_.erase(id); };
    metrics_http_ = std::make_unique<net::TcpServer>(loop_, mc, so);
    metrics_http_->listen(opts_.metrics->host, opts_.metrics->port);
  }
  log(LogLevel::kInfo,
      fmt::format("serving Redis clients on {}:{}, peers on {}:{}", opts_.client.host,
                  clients_->port(), opts_.peers.at(opts_.id).host, peers_->listen_port()));
}

Server::~Server() = default;

server::Millis Server::now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start_)
      .count();
}

void Server::log(LogLevel level, std::string_view line) const {
  if (level > opts_.log_level) return;
  std::cerr << "raftkv " << opts_.id << " " << level_name(level) << ": " << line << std::endl;
}

// ---- clients ------------------------------------------------------------------------

void Server::on_client_data(net::ConnId id, std::string_view bytes) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  RedisSession& s = *it->second;
  s.feed(bytes);
  dirty_.push_back(id);
  if (s.unanswered() > opts_.max_unanswered) clients_->pause_reading(id, true);
}

void Server::submit(uint64_t client_id, uint64_t seq, server::ClientRequest request) {
  ++client_commands_;
  server::RequestId rid = next_request_++;
  in_flight_[rid] = InFlight{client_id, seq};
  core_->client_request(rid, std::move(request), now());
}

void Server::reply(server::RequestId id, server::ClientReply r) {
  auto it = in_flight_.find(id);
  if (it == in_flight_.end()) return;
  InFlight f = it->second;
  in_flight_.erase(it);
  if (f.admin && r.code == server::ReplyCode::kUnavailable) r.text = with_leader_address(r.text);
  auto s = sessions_.find(f.conn);
  if (s == sessions_.end()) return;  // the client left; its answer goes nowhere
  s->second->on_reply(f.seq, std::move(r));
  dirty_.push_back(f.conn);
}

void Server::write_client(net::ConnId id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  RedisSession& s = *it->second;
  std::string out = s.take_output();
  if (!out.empty()) clients_->send(id, out);
  if (s.finished()) {
    clients_->close_after_flush(id);
    return;
  }
  clients_->flush(id);
  bool too_much = s.unanswered() > opts_.max_unanswered ||
                  clients_->pending_output(id) > opts_.max_output_bytes;
  if (!draining_) clients_->pause_reading(id, too_much);
}

void Server::write_dirty_clients() {
  std::vector<net::ConnId> dirty;
  dirty.swap(dirty_);
  std::sort(dirty.begin(), dirty.end());
  dirty.erase(std::unique(dirty.begin(), dirty.end()), dirty.end());
  for (net::ConnId id : dirty) write_client(id);
}

// ---- server::Outbox -------------------------------------------------------------------

void Server::send(const raft::NodeId& to, server::PeerMessage m) {
  // A member added this very turn: its configuration entry is in the log
  // already, its connection not yet.
  if (!peers_->has_peer(to)) sync_peers(now());
  // Still unknown: a member with no address (sync_peers said so).
  if (!peers_->has_peer(to)) return;
  peers_->send(to, m);
}

void Server::flush() {
  peers_->flush();
}

// ---- SessionHost: INFO and leadership ------------------------------------------------

bool Server::is_leader() const {
  return core_->raft().role() == raft::Role::kLeader;
}

void Server::append_info(std::string& out, const resp::Info& info) {
  const raft::Raft& r = core_->raft();
  uint64_t syncs = log_store_->syncs();
  double per_sync = entries_per_fsync(*log_store_);
  std::vector<resp::InfoSection> all;
  all.push_back({"Server",
                 {{"redis_version", "7.0.0"},
                  {"raftkv_mode", "serve"},
                  {"process_id", std::to_string(getpid())},
                  {"tcp_port", std::to_string(clients_->port())},
                  {"uptime_in_seconds", std::to_string(now() / 1000)}}});
  all.push_back({"Clients", {{"connected_clients", std::to_string(sessions_.size())}}});
  all.push_back({"Raft",
                 {{"node_id", opts_.id},
                  {"role", r.role() == raft::Role::kLeader      ? "leader"
                           : r.role() == raft::Role::kCandidate ? "candidate"
                                                                : "follower"},
                  {"term", std::to_string(r.term())},
                  {"leader", r.leader()},
                  {"commit_index", std::to_string(r.commit_index())},
                  {"applied_index", std::to_string(r.applied_index())},
                  {"first_index", std::to_string(r.log().first_index())},
                  {"last_index", std::to_string(r.log().last_index())},
                  {"fsyncs", std::to_string(syncs)},
                  {"entries_per_fsync", fmt::format("{:.2f}", per_sync)},
                  {"leader_changes", std::to_string(leader_changes_)},
                  {"snapshots_sent", std::to_string(core_->counters().snapshots_sent)},
                  {"snapshots_installed", std::to_string(core_->counters().snapshots_installed)}}});
  for (auto& field : membership_info()) all.back().fields.push_back(std::move(field));
  resp::append_info_reply(out, info, all);
}

// ---- metrics --------------------------------------------------------------------------

std::string Server::render_metrics() {
  const raft::Raft& r = core_->raft();
  std::string out;
  fsync_seconds_.render(out, "raftkv_fsync_seconds", "Latency of Raft log writes that fsync.");
  render_metric(out, "raftkv_fsyncs_total", "counter", "Raft log fsyncs.", log_store_->syncs());
  render_metric(out, "raftkv_fsynced_entries_total", "counter",
                "Log entries made durable (entries per fsync = this / raftkv_fsyncs_total).",
                log_store_->synced_entries());
  render_metric(out, "raftkv_entries_per_fsync", "gauge", "Mean log entries per fsync so far.",
                entries_per_fsync(*log_store_));
  render_metric(out, "raftkv_term", "gauge", "Current Raft term.", r.term());
  render_metric(out, "raftkv_is_leader", "gauge", "1 when this server is the leader.",
                r.role() == raft::Role::kLeader ? 1 : 0);
  render_metric(out, "raftkv_leader_changes_total", "counter",
                "Times the known leader changed (including to none).", leader_changes_);
  render_membership_metrics(out);
  render_metric(out, "raftkv_commit_index", "gauge", "Raft commit index.", r.commit_index());
  render_metric(out, "raftkv_applied_index", "gauge", "Index applied to the KV store.",
                r.applied_index());
  render_header(out, "raftkv_follower_lag_entries", "gauge",
                "Leader only: entries each follower is behind the leader's last index.");
  for (const auto& [id, p] : r.progress()) {
    uint64_t last = r.log().last_index();
    render_labelled(out, "raftkv_follower_lag_entries", "follower", id,
                    double(last > p.match ? last - p.match : 0));
  }
  render_metric(out, "raftkv_proposals_total", "counter",
                "Client commands appended to the log by this server as leader "
                "(proposals/s = rate of this).",
                core_->counters().proposals);
  render_metric(out, "raftkv_client_commands_total", "counter",
                "Store commands received from this server's clients.", client_commands_);
  render_metric(out, "raftkv_snapshots_sent_total", "counter", "Snapshot transfers started.",
                core_->counters().snapshots_sent);
  render_metric(out, "raftkv_snapshots_installed_total", "counter", "Snapshots installed.",
                core_->counters().snapshots_installed);
  render_metric(out, "raftkv_client_connections", "gauge", "Open Redis client connections.",
                sessions_.size());
  render_metric(out, "raftkv_client_connections_total", "counter", "Redis connections accepted.",
                connections_total_);
  auto peer_stats = peers_->stats();
  render_header(out, "raftkv_peer_connected", "gauge", "1 when the connection to a peer is up.");
  for (const auto& [id, s] : peer_stats) {
    render_labelled(out, "raftkv_peer_connected", "peer", id, s.connected ? 1 : 0);
  }
  render_header(out, "raftkv_peer_dropped_messages_total", "counter",
                "Messages to a peer dropped (queue full or connection lost).");
  for (const auto& [id, s] : peer_stats) {
    render_labelled(out, "raftkv_peer_dropped_messages_total", "peer", id, double(s.dropped));
  }
  render_header(out, "raftkv_peer_connect_failures_total", "counter",
                "Connection attempts to a peer that failed (each drops what was queued).");
  for (const auto& [id, s] : peer_stats) {
    render_labelled(out, "raftkv_peer_connect_failures_total", "peer", id,
                    double(s.connect_failures));
  }
  render_header(out, "raftkv_peer_reconnects_total", "counter", "Reconnections to a peer.");
  for (const auto& [id, s] : peer_stats) {
    render_labelled(out, "raftkv_peer_reconnects_total", "peer", id, double(s.reconnects));
  }
  return out;
}

// ---- the loop -------------------------------------------------------------------------

void Server::after_turn(Millis t) {
  sync_peers(t);
  note_membership();
  const raft::NodeId& leader = core_->raft().leader();
  if (leader != last_leader_) {
    ++leader_changes_;
    log(LogLevel::kInfo, fmt::format("leader is now {} (term {})",
                                     leader.empty() ? "unknown" : leader, core_->raft().term()));
    last_leader_ = leader;
  }
  if (opts_.stats_interval_ms > 0 && t >= next_stats_) {
    next_stats_ = t + opts_.stats_interval_ms;
    log(LogLevel::kInfo, "stats " + core_->stats() + fmt::format(" clients={}", sessions_.size()));
  }
}

void Server::begin_drain(Millis t) {
  draining_ = true;
  drain_deadline_ = t + opts_.drain_ms;
  clients_->stop_accepting();
  for (auto& [id, s] : sessions_) clients_->pause_reading(id, true);
  log(LogLevel::kInfo, fmt::format("stopping: answering {} accepted requests (up to {} ms)",
                                   in_flight_.size(), opts_.drain_ms));
}

bool Server::drained() const {
  for (const auto& [id, s] : sessions_) {
    if (s->unanswered() > 0 || clients_->pending_output(id) > 0) return false;
  }
  return true;
}

int Server::run() {
  g_loop.store(&loop_);
  Millis next_tick = now() + opts_.core.tick_ms;
  int rc = 0;
  try {
    for (;;) {
      Millis t = now();
      int timeout = static_cast<int>(std::clamp<Millis>(next_tick - t, 0, opts_.core.tick_ms));
      loop_.run_once(timeout);
      t = now();
      peers_->tick(t);
      if (t >= next_tick) {
        core_->tick(t);
        // After a stall, one tick: Raft's timers count ticks, and a burst
        // of them would fire elections for a pause that was ours.
        next_tick = std::max(next_tick + opts_.core.tick_ms, t + 1);
      }
      core_->drive();
      peers_->flush();
      write_dirty_clients();
      after_turn(t);
      // now(), not t: this turn's work may have taken long, and --drain-ms
      // counts from when the stop is seen.
      if (g_stop.load() && !draining_) begin_drain(now());
      if (draining_ && (drained() || t >= drain_deadline_)) break;
    }
    kv_store_->sync();
  } catch (const storage::StorageError& e) {
    // Fail-stop: no clean close (that would sync again on a disk that just failed).
    log(LogLevel::kError, fmt::format("storage failed, stopping: {}", e.what()));
    std::cerr.flush();
    std::_Exit(1);
  }
  g_loop.store(nullptr);
  log(LogLevel::kInfo, fmt::format("stopped ({} requests unanswered)", in_flight_.size()));
  return rc;
}

int serve(const ServeOptions& options) {
  std::unique_ptr<Server> server;
  try {
    server = std::make_unique<Server>(options);
  } catch (const std::exception& e) {
    std::cerr << "raftkv " << options.id << " ERROR: cannot start: " << e.what() << std::endl;
    return 1;
  }
  return server->run();
}

}  // namespace raftkv::serve

#include "network.h"

#include <fmt/format.h>

#include "clock.h"
#include "messages_log.h"
#include "process.h"

namespace runner {

Network::Network(EventLoop& loop, std::mt19937_64& rng, int64_t latency_ms, LatencyDist dist,
                 Problems& problems)
    : loop_(loop), rng_(rng), latency_ms_(latency_ms), dist_(dist), problems_(problems) {}

void Network::add_node(NodeProcess* node) {
  nodes_[node->id()] = node;
}

void Network::add_client(const std::string& id, ClientHandler handler) {
  clients_[id] = std::move(handler);
}

void Network::on_node_line(const std::string& node, std::string line) {
  auto r = raftkv::maelstrom::parse(line);
  if (!r.message) {
    problems_.add("malformed-message", fmt::format("{} wrote a line that is not a valid message "
                                                   "({}): {}",
                                                   node, r.error, line.substr(0, 500)));
    return;
  }
  if (r.message->src != node) {
    // Maelstrom does not check this either, so deliver it, but say so: a
    // node that forgot its id after a restart shows up here.
    problems_.add("wrong-source", fmt::format("{} sent a message with src {}: {}", node,
                                              r.message->src, line.substr(0, 500)));
  }
  route(std::move(*r.message));
}

void Network::send(Message m) {
  if (client_transport_) {
    ++stats_.client_sent;
    client_transport_(std::move(m));
    return;
  }
  route(std::move(m));
}

void Network::deliver_reply(const Message& m) {
  ++stats_.client_sent;
  deliver(m);
}

int64_t Network::sample_latency_ns() {
  if (latency_ms_ == 0) return 0;
  double mean_ns = static_cast<double>(latency_ms_) * kMs;
  switch (dist_) {
    case LatencyDist::kConstant:
      return static_cast<int64_t>(mean_ns);
    case LatencyDist::kUniform:
      return static_cast<int64_t>(std::uniform_real_distribution<double>(0, 2 * mean_ns)(rng_));
    case LatencyDist::kExponential:
      return static_cast<int64_t>(std::exponential_distribution<double>(1 / mean_ns)(rng_));
  }
  return 0;
}

void Network::route(Message m) {
  bool src_client = clients_.count(m.src) > 0;
  bool dest_client = clients_.count(m.dest) > 0;
  if (!src_client && !nodes_.count(m.src)) {
    problems_.add("unknown-source", fmt::format("message from unknown node {}: {}", m.src,
                                                raftkv::maelstrom::serialize(m).substr(0, 500)));
    return;
  }
  if (!dest_client && !nodes_.count(m.dest)) {
    problems_.add("unknown-destination",
                  fmt::format("{} sent a message to unknown node {}: {}", m.src, m.dest,
                              raftkv::maelstrom::serialize(m).substr(0, 500)));
    return;
  }
  bool client_traffic = src_client || dest_client;
  if (client_traffic) {
    ++stats_.client_sent;
  } else {
    ++stats_.server_sent;
  }
  int64_t sent = mono_ns();
  int64_t deadline = sent + (client_traffic ? 0 : sample_latency_ns());
  std::string dest = m.dest;
  queues_[dest].push(Envelope{deadline, next_seq_++, std::move(m), sent});
  loop_.at(deadline, [this, dest] { deliver_due(dest); });
}

void Network::deliver_due(const std::string& dest) {
  auto& q = queues_[dest];
  int64_t now = mono_ns();
  while (!q.empty() && q.top().deadline <= now) {
    Message m = q.top().msg;
    int64_t sent = q.top().sent;
    q.pop();
    deliver(m, sent);
  }
}

void Network::deliver(const Message& m, int64_t sent) {
  auto log = [&](MessageFate fate) {
    if (messages_log_) messages_log_->record(m, sent, mono_ns(), fate);
  };
  auto c = clients_.find(m.dest);
  if (c != clients_.end()) {
    ++stats_.delivered;
    log(MessageFate::kDelivered);
    c->second(m);
    return;
  }
  auto g = grudge_.find(m.dest);
  if (g != grudge_.end() && g->second.count(m.src)) {
    ++stats_.dropped_partition;
    log(MessageFate::kPartitioned);
    return;
  }
  NodeProcess* node = nodes_.at(m.dest);
  if (!node->running()) {
    ++stats_.dropped_down;
    log(MessageFate::kDown);
    return;
  }
  ++stats_.delivered;
  log(MessageFate::kDelivered);
  // Maelstrom stamps every delivered message with a network-wide id.
  std::string body = raftkv::maelstrom::serialize(m);
  node->send_line(fmt::format("{{\"id\":{},{}", next_id_++, std::string_view(body).substr(1)));
}

}  // namespace runner

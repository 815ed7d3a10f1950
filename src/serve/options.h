// Serve mode's configuration: who this server is, where everyone listens,
// and the core's tuning (the same flags as the Maelstrom mode).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "net/peer_transport.h"
#include "resp/limits.h"
#include "server/core.h"

namespace raftkv::serve {

enum class LogLevel { kError, kWarn, kInfo, kDebug };

struct ServeOptions {
  raft::NodeId id;
  std::map<raft::NodeId, net::PeerAddress> peers;  // every member, this one included
  net::PeerAddress client;                         // the Redis port
  std::optional<net::PeerAddress> metrics;         // Prometheus /metrics
  std::string data_dir;                            // state in data_dir/<id>/
  server::CoreOptions core;
  resp::ParseLimits limits;
  size_t max_queue_bytes = 16 << 20;  // per peer send queue
  int drain_ms = 2000;                // on SIGTERM: how long to wait for accepted requests
  int stats_interval_ms = 0;
  LogLevel log_level = LogLevel::kInfo;
  // Per client connection: past this many unanswered commands, or this
  // much unsent output, the server stops reading from it until it drains.
  size_t max_unanswered = 4096;
  size_t max_output_bytes = 32 << 20;
};

// "host:port" (IPv4 dotted quad or "localhost"), or nullopt with *error set.
std::optional<net::PeerAddress> parse_address(const std::string& text, std::string* error);
// "n1=host:port,n2=host:port,...": ids unique and non-empty.
std::optional<std::map<raft::NodeId, net::PeerAddress>> parse_peers(const std::string& text,
                                                                    std::string* error);

}  // namespace raftkv::serve

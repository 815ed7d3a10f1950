// Options of --net netns (servers in network namespaces, clients over TCP).
#pragma once

#include <string>

#include "nft_partition.h"
#include "resp_client.h"

namespace CLI {
class App;
}

namespace runner {

struct Options;

enum class NetMode { kMaelstrom, kNetns };
// redis: redis-server with the appendonlydir made durable before it starts
// (see netns_mode.cc); redis-raw: redis-server exactly as it is.
enum class Peer { kRaftkv, kRedis, kRedisRaw };

struct NetOptions {
  NetMode mode = NetMode::kMaelstrom;
  Peer peer = Peer::kRaftkv;
  CasStyle cas = CasStyle::kIfeq;
  bool cas_given = false;
  PartitionMode partition = PartitionMode::kMixed;
  int client_port = 6379;
  int peer_port = 7001;
};

// Adds --net, --peer, --resp-cas, --partition-mode, --client-port,
// --peer-port. A bad value throws CLI::ValidationError with *fail set.
void add_net_options(CLI::App& app, NetOptions* o, std::string* fail);

// Checks the options against each other once parsed (e.g. --latency is not
// available in netns mode); false with *error set.
bool validate_net_options(Options& o, std::string* error);

}  // namespace runner

// --net netns, put together: the namespaces (NetnsTopology), the servers'
// command lines and namespaces (ClusterHooks), partitions as nftables rules,
// and the clients' TCP transport. The rest of the run -- generator, workers,
// nemesis, kill/pause/power, final reads, checker, results -- is the
// Maelstrom mode's, unchanged.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli.h"
#include "cluster.h"
#include "history_log.h"
#include "netns.h"
#include "tcp_transport.h"

namespace runner {

class NetnsMode {
 public:
  NetnsMode(EventLoop& loop, Network& net, Problems& problems, const Options& opts, uint64_t seed);
  ~NetnsMode();

  // Builds the namespaces and plugs the TCP transport into the network.
  bool setup(std::string* error);
  ClusterHooks cluster_hooks();
  // Waits until every server accepts connections on its client port.
  bool wait_ready(std::string* error);
  // Removes every rule and namespace (also done by the destructor).
  void teardown();
  // results.json's "net": addresses, connections, partitions, faults, cleanup.
  nlohmann::json summary(const HistoryLog& history) const;

  // The server's full argv, [0] the program (exposed for tests).
  static std::vector<std::string> server_command(const Options& opts, size_t index,
                                                 const std::vector<std::string>& addresses);

 private:
  void partition(const Grudge& grudge);
  void heal();
  bool apply_rules(size_t index, const std::set<std::string>& sources, PartitionMode mode);
  bool server_accepts(size_t index);

  EventLoop& loop_;
  Network& net_;
  Problems& problems_;
  const Options& opts_;
  std::mt19937_64 rng_;  // drop or reject, in mixed mode
  NetnsTopology topo_;
  std::vector<std::string> addresses_;
  std::unique_ptr<TcpTransport> transport_;
  int64_t partitions_drop_ = 0, partitions_reject_ = 0, rule_failures_ = 0;
  bool torn_down_ = false;
  nlohmann::json clients_;    // the transport's counters, kept at teardown
  int namespaces_left_ = -1;  // ours still in /run/netns after teardown
};

}  // namespace runner

// The node processes of one run, with Maelstrom's init handshake, and the
// fault operations the nemesis uses.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "client.h"
#include "nemesis.h"
#include "problems.h"
#include "process.h"

namespace runner {

// How a cluster that is not a Maelstrom one (--net netns) differs: each
// node's command line and namespace, no init handshake, partitions made
// elsewhere (nftables) instead of in the simulated network.
struct ClusterHooks {
  std::function<void(NodeSpec& spec, size_t index)> customize;
  bool maelstrom_init = true;
  std::function<void(const Grudge&)> partition;
  std::function<void()> heal;
};

class Cluster : public ClusterControl {
 public:
  Cluster(EventLoop& loop, Network& net, Problems& problems, const Options& opts,
          const std::string& run_dir, int* next_client, ClusterHooks hooks = {});
  ~Cluster() override;

  bool start_all(std::string* error);
  // Sends init to every node; returns once all answered or 10 s passed.
  bool init_all(std::string* error);
  // Restarts nodes that died on their own, so the final reads can reach them.
  void restart_crashed();
  int pending_inits() const { return pending_inits_; }
  void stop_all();
  std::vector<NodeProcess*> processes() const;
  int64_t crashes() const { return crashes_; }

  const std::vector<std::string>& node_ids() const override { return ids_; }
  void kill(const std::string& node) override;
  void restart(const std::string& node) override;
  void pause(const std::string& node) override;
  void resume(const std::string& node) override;
  void partition(const Grudge& grudge) override;
  void heal_partition() override;
  void power_cut(const std::string& node, uint64_t seed) override;
  bool replace(const std::string& node, std::string* error) override;

  // --nemesis power: each node's working directory is its own lossyfs mount
  // (tools/lossyfs). Counters of the power cuts for results.json; null when
  // the power nemesis is off.
  nlohmann::json power_summary() const;

 private:
  // One lossyfs mount per node, started before the nodes, unmounted after.
  struct Disk {
    pid_t pid = -1;
    std::string ctl;    // control socket
    std::string mount;  // the node's working directory
  };
  bool mount_disks(std::string* error);
  void unmount_disks();

  NodeProcess& proc(const std::string& node);
  void send_init(const std::string& node, bool restart);

  EventLoop& loop_;
  Network& net_;
  Problems& problems_;
  const Options& opts_;
  int* next_client_;
  std::vector<std::string> ids_;
  std::vector<std::unique_ptr<NodeProcess>> procs_;
  std::vector<std::unique_ptr<Client>> init_clients_;
  int pending_inits_ = 0;
  // Bumped when a node is killed: an init sent to an earlier incarnation
  // that never answered is not that node's failure.
  std::map<std::string, int> incarnation_;
  int init_failures_ = 0;
  int64_t crashes_ = 0;
  std::string run_dir_;
  std::map<std::string, Disk> disks_;
  int64_t node_cuts_ = 0, torn_bytes_ = 0, dropped_bytes_ = 0, cut_errors_ = 0;
  std::map<std::string, int64_t> restarts_after_cut_;
  std::set<std::string> cut_down_;  // cut and not yet restarted
  ClusterHooks hooks_;
};

}  // namespace runner

// Faults, as Jepsen's combined nemesis packages schedule them: one event every
// uniform [0, 2 x interval) seconds, each picking one of the enabled fault
// kinds and flipping it (start if stopped, stop if started).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "event_loop.h"
#include "history_log.h"

namespace runner {

using Grudge = std::map<std::string, std::set<std::string>>;  // dest -> dropped sources

// What the nemesis acts on; implemented by the runner's cluster.
class ClusterControl {
 public:
  virtual ~ClusterControl() = default;
  virtual const std::vector<std::string>& node_ids() const = 0;
  virtual void kill(const std::string& node) = 0;
  virtual void restart(const std::string& node) = 0;  // also re-sends init
  virtual void pause(const std::string& node) = 0;
  virtual void resume(const std::string& node) = 0;
  virtual void partition(const Grudge& grudge) = 0;
  virtual void heal_partition() = 0;
  // Power loss: SIGKILL the node and drop what its disk never synced (tearing
  // the last unsynced write, seeded). Restarted with restart().
  virtual void power_cut(const std::string& node, uint64_t /*seed*/) { kill(node); }
  // The member nemesis' replacement machine: SIGKILL the node, wipe its data
  // dir and start it again with --join (it stays --join from then on).
  virtual bool replace(const std::string& /*node*/, std::string* error) {
    *error = "this cluster cannot replace nodes";
    return false;
  }
};

class MemberNemesis;

// Partitions as jepsen.nemesis.combined's partition package picks them:
// "one", "minority-third", "majority", "majorities-ring".
Grudge partition_grudge(const std::string& spec, const std::vector<std::string>& nodes,
                        std::mt19937_64& rng);
// Grudge isolating each component from all the others.
Grudge complete_grudge(const std::vector<std::vector<std::string>>& components);
// Kill/pause target sets: "one", "minority", "majority", "all".
std::vector<std::string> node_targets(const std::string& spec,
                                      const std::vector<std::string>& nodes, std::mt19937_64& rng);

class Nemesis {
 public:
  Nemesis(EventLoop& loop, std::mt19937_64& rng, ClusterControl& cluster, HistoryLog& history,
          std::set<std::string> faults, double interval_s);

  void start(int64_t end_ns);
  void heal_all();
  std::string describe_active() const;
  // Handles the "member" fault kind (membership changes); not owned.
  void set_member(MemberNemesis* member) { member_ = member; }
  bool any_active() const {
    return partitioned_ || !killed_.empty() || !paused_.empty() || !powered_off_.empty();
  }

 private:
  void schedule_next();
  void fire();
  void start_fault(const std::string& kind);
  void stop_fault(const std::string& kind);

  EventLoop& loop_;
  std::mt19937_64& rng_;
  ClusterControl& cluster_;
  HistoryLog& history_;
  std::vector<std::string> faults_;
  double interval_s_;
  int64_t end_ns_ = 0;
  bool running_ = false;
  bool partitioned_ = false;
  std::string partition_spec_;
  std::vector<std::string> killed_;
  std::vector<std::string> paused_;
  std::vector<std::string> powered_off_;
  MemberNemesis* member_ = nullptr;
};

}  // namespace runner

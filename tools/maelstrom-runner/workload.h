// The workers: C simulated clients bound to nodes round-robin, each with one
// outstanding request, fed by an OpGenerator either at a total rate (gaps
// uniform in [0, 2/rate), as jepsen's stagger) or closed-loop (rate 0).
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "client.h"
#include "history_log.h"

namespace runner {

struct WorkloadCounts {
  int64_t ok = 0, info = 0, fail = 0;
};

class Workload {
 public:
  Workload(EventLoop& loop, Network& net, std::mt19937_64& rng, OpGenerator& gen,
           HistoryLog& history, const std::vector<std::string>& nodes, int concurrency, double rate,
           int64_t timeout_ns);

  // Generates operations until end_ns (monotonic).
  void start(int64_t end_ns);
  // No worker has a request in flight and generation has ended.
  bool finished() const;

  const WorkloadCounts& counts() const { return counts_; }
  const std::set<int64_t>& keys_used() const { return keys_; }
  int64_t next_free_process() const { return max_process_ + 1; }

 private:
  struct Worker {
    int index = 0;
    std::unique_ptr<Client> client;
    std::string node;
    int64_t process = 0;
    bool busy = false;
  };

  void invoke(Worker& w);
  void on_complete(Worker& w, const OpSpec& op, size_t op_index,
                   const std::optional<Message>& reply);
  void schedule_tick(int64_t at);
  void tick();
  Worker* free_worker();

  EventLoop& loop_;
  std::mt19937_64& rng_;
  OpGenerator& gen_;
  HistoryLog& history_;
  int concurrency_;
  double rate_;
  int64_t timeout_ns_;
  int64_t end_ns_ = 0;
  bool generating_ = false;
  bool tick_pending_ = false;  // a rate tick found no free worker
  int64_t next_tick_ = 0;
  std::vector<Worker> workers_;
  WorkloadCounts counts_;
  std::set<int64_t> keys_;
  int64_t max_process_ = -1;
};

}  // namespace runner

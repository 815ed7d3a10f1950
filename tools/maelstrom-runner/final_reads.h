// Beyond Maelstrom: once faults are healed and the cluster has settled, read
// every key the workload touched from every node, retrying until each read is
// ok, so an acknowledged write that was lost shows up in the history.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "client.h"
#include "history_log.h"

namespace runner {

class FinalReads {
 public:
  FinalReads(EventLoop& loop, Network& net, HistoryLog& history,
             const std::vector<std::string>& nodes, const std::set<int64_t>& keys,
             int64_t first_process, int first_client, int64_t timeout_ns);

  void start(int64_t deadline_ns);
  bool finished() const { return remaining_ == 0 || (expired_ && in_flight_ == 0); }
  // Keys x nodes that never got an ok read.
  int64_t unread() const { return remaining_; }

 private:
  struct Reader {
    std::unique_ptr<Client> client;
    std::string node;
    int64_t process = 0;
    std::vector<int64_t> keys;
    size_t next = 0;
  };
  void read_next(Reader& r);

  EventLoop& loop_;
  HistoryLog& history_;
  int64_t timeout_ns_;
  int64_t deadline_ = 0;
  bool expired_ = false;
  int64_t remaining_ = 0;
  int in_flight_ = 0;
  std::vector<Reader> readers_;
};

}  // namespace runner

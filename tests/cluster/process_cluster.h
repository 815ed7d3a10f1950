// A minimal in-test Maelstrom router: real raftkv processes on pipes,
// messages between servers delivered immediately, client replies collected.
// Enough for end-to-end tests that need to kill a specific node (the leader);
// tools/maelstrom-runner is the full-featured harness.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace raftkv::test {

using Json = nlohmann::ordered_json;

class ProcessCluster {
 public:
  ProcessCluster(std::string binary, int nodes, std::string data_dir,
                 std::vector<std::string> extra_args = {});
  ~ProcessCluster();

  const std::vector<std::string>& ids() const { return ids_; }
  void start(const std::string& id);  // spawns the process and sends init
  // Arguments for one node only, appended to the common ones from its next start.
  void set_node_args(const std::string& id, std::vector<std::string> args) {
    node_args_[id] = std::move(args);
  }
  // Deletes a (stopped) node's data, as a replacement machine would have none.
  void wipe(const std::string& id);
  void kill(const std::string& id);  // SIGKILL, reaps it
  bool alive(const std::string& id) const;

  // Sends a client request to `node` and waits for its reply.
  std::optional<Json> request(const std::string& node, Json body,
                              std::chrono::milliseconds timeout = std::chrono::seconds(2));
  // The node that all live nodes agree leads (via "status"), if any.
  std::optional<std::string> leader();
  // Routes messages for up to `d`.
  void pump(std::chrono::milliseconds d);

  uint64_t messages_routed() const { return routed_; }

 private:
  struct Proc {
    pid_t pid = -1;
    int in = -1;   // its stdin
    int out = -1;  // its stdout
    std::string partial;
  };
  void deliver(const std::string& line);
  void write_to(const std::string& id, const std::string& line);

  std::string binary_;
  std::string data_dir_;
  std::vector<std::string> extra_args_;
  std::map<std::string, std::vector<std::string>> node_args_;
  std::vector<std::string> ids_;
  std::map<std::string, Proc> procs_;
  std::map<int64_t, Json> replies_;  // by in_reply_to
  int64_t next_msg_id_ = 1;
  uint64_t routed_ = 0;
};

}  // namespace raftkv::test

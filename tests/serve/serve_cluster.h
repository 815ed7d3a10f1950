// Real `raftkv serve` processes on 127.0.0.1 for end-to-end tests: each
// server gets free ports (peer, client, metrics) chosen once, so a restart
// comes back on the same addresses, and all share one temporary data dir
// (state in DIR/<id>/, stderr appended to DIR/<id>.log).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "resp_client.h"

namespace raftkv::test {

struct ServeClusterOptions {
  int servers = 3;
  bool metrics = false;                 // give every server a --metrics port
  std::vector<std::string> extra_args;  // appended to every server's command line
  // The last `joiners` servers are new ones: the others' --peers leave them
  // out, and they start with --join (every server in their --peers).
  int joiners = 0;
};

class ServeCluster {
 public:
  explicit ServeCluster(ServeClusterOptions options = {});  // starts nothing
  ~ServeCluster();  // SIGKILLs whatever runs and removes the data dir
  ServeCluster(const ServeCluster&) = delete;
  ServeCluster& operator=(const ServeCluster&) = delete;

  const std::vector<std::string>& ids() const { return ids_; }
  void start_all();
  void start(const std::string& id);  // waits until its client port answers PING
  void kill9(const std::string& id);  // SIGKILL and reap
  // SIGTERM, then waits up to `timeout` for the exit: its exit code
  // (128+N for death by signal N), or nullopt if it was still running (it
  // is then SIGKILLed). *took: how long it took to exit.
  std::optional<int> terminate(const std::string& id, Millis timeout, Millis* took = nullptr);
  bool alive(const std::string& id);  // running (reaps it if it died)
  pid_t pid(const std::string& id) const { return servers_.at(id).pid; }

  uint16_t client_port(const std::string& id) const { return servers_.at(id).client; }
  uint16_t peer_port(const std::string& id) const { return servers_.at(id).peer; }
  uint16_t metrics_port(const std::string& id) const { return servers_.at(id).metrics; }
  RespClient client(const std::string& id) const { return RespClient(client_port(id)); }

  // INFO's "key:value" fields; empty when the server does not answer.
  std::map<std::string, std::string> info(const std::string& id) const;
  // The server that says it leads and that every live member agrees on (a
  // majority of all; servers whose INFO says raft_member:no are left out),
  // once there is one (other than `not_this`) within
  // `timeout`.
  std::optional<std::string> wait_for_leader(Millis timeout, const std::string& not_this = "");
  // Any live server other than `leader`.
  std::string follower_of(const std::string& leader);
  // The end of a server's stderr, for failure messages.
  std::string log_tail(const std::string& id, size_t bytes = 3000) const;
  const std::string& data_dir() const { return dir_; }

 private:
  struct Server {
    uint16_t peer = 0, client = 0, metrics = 0;
    pid_t pid = -1;
  };
  std::vector<std::string> command_line(const std::string& id) const;
  bool is_joiner(const std::string& id) const;

  ServeClusterOptions options_;
  std::string dir_;
  std::vector<std::string> ids_;
  std::map<std::string, Server> servers_;
};

// Retries a write through `port` while it answers TRYAGAIN (no leader yet):
// the first other reply, or the TRYAGAIN error after `timeout`.
resp::Reply call_until_settled(uint16_t port, const std::vector<std::string>& args,
                               Millis timeout = Millis(10000));

// One HTTP exchange (GET path on 127.0.0.1:port): the whole response, read
// until the server closes.
std::string http_get(uint16_t port, const std::string& path);

}  // namespace raftkv::test

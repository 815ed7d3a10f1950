// A small single-threaded RESP server for tests: real sockets on
// 127.0.0.1, one RequestParser per connection, commands parsed with
// parse_command and executed on an in-memory map, replies built with the
// encoder. It lets real clients (redis-cli, redis-benchmark) drive the
// resp library end to end before the real serve mode exists.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace raftkv::resp::testing {

class MiniServer {
 public:
  MiniServer();  // listens on an ephemeral port and starts serving
  ~MiniServer();
  MiniServer(const MiniServer&) = delete;
  MiniServer& operator=(const MiniServer&) = delete;

  uint16_t port() const { return port_; }
  // Every command received so far (all connections, in arrival order).
  std::vector<std::vector<std::string>> commands();
  // Every protocol error a connection was closed for.
  std::vector<std::string> protocol_errors();

 private:
  struct Connection;
  void serve();
  bool handle_readable(Connection& c);  // false: close it
  void execute(Connection& c, const std::vector<std::string>& args);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::vector<std::string>> commands_;
  std::vector<std::string> protocol_errors_;
  std::map<std::string, std::string> data_;  // serve thread only
  int64_t next_client_id_ = 1;
  std::thread thread_;
};

}  // namespace raftkv::resp::testing

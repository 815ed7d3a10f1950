// The simulated network between nodes and clients, as Maelstrom's: messages
// are parsed, counted, delayed per recipient by the latency distribution
// (client traffic is never delayed), and dropped at delivery time if a
// partition separates sender and recipient.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cli.h"
#include "event_loop.h"
#include "maelstrom/message.h"
#include "problems.h"

namespace runner {

class NodeProcess;
class MessagesLog;

using raftkv::maelstrom::Message;

struct NetStats {
  int64_t server_sent = 0;  // server -> server
  int64_t client_sent = 0;  // client <-> server, both directions
  int64_t delivered = 0;
  int64_t dropped_partition = 0;
  int64_t dropped_down = 0;  // recipient killed
};

class Network {
 public:
  using ClientHandler = std::function<void(const Message&)>;

  Network(EventLoop& loop, std::mt19937_64& rng, int64_t latency_ms, LatencyDist dist,
          Problems& problems);

  void add_node(NodeProcess* node);
  void add_client(const std::string& id, ClientHandler handler);
  bool is_client(const std::string& id) const { return clients_.count(id) > 0; }

  // A raw stdout line from a node.
  void on_node_line(const std::string& node, std::string line);
  // A message from a client (src must be a registered client).
  void send(Message m);

  // dest -> sources whose messages dest drops. Clients are never cut off.
  void set_grudge(std::map<std::string, std::set<std::string>> grudge) {
    grudge_ = std::move(grudge);
  }
  void heal() { grudge_.clear(); }

  // --net netns: client requests go to this transport instead of the
  // simulated network, which gets the replies back through deliver_reply().
  void set_client_transport(std::function<void(Message)> transport) {
    client_transport_ = std::move(transport);
  }
  void deliver_reply(const Message& m);

  const NetStats& stats() const { return stats_; }
  // Every message's fate (delivered, or dropped and why) goes to this log, for
  // the report's message diagram. Optional; not owned.
  void set_messages_log(MessagesLog* log) { messages_log_ = log; }

 private:
  struct Envelope {
    int64_t deadline;
    uint64_t seq;
    Message msg;
    int64_t sent = 0;
  };
  struct Later {
    bool operator()(const Envelope& a, const Envelope& b) const {
      return a.deadline != b.deadline ? a.deadline > b.deadline : a.seq > b.seq;
    }
  };

  void route(Message m);
  int64_t sample_latency_ns();
  void deliver_due(const std::string& dest);
  void deliver(const Message& m, int64_t sent);

  EventLoop& loop_;
  std::mt19937_64& rng_;
  int64_t latency_ms_;
  LatencyDist dist_;
  Problems& problems_;
  std::map<std::string, NodeProcess*> nodes_;
  std::map<std::string, ClientHandler> clients_;
  std::map<std::string, std::priority_queue<Envelope, std::vector<Envelope>, Later>> queues_;
  std::map<std::string, std::set<std::string>> grudge_;
  uint64_t next_seq_ = 0;
  int64_t next_id_ = 0;
  NetStats stats_;
  std::function<void(Message)> client_transport_;
  MessagesLog* messages_log_ = nullptr;
};

}  // namespace runner

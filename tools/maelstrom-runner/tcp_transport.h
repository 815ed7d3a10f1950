// Client traffic over real TCP for --net netns. The runner's clients (workers,
// final readers) still speak Maelstrom messages to the Network; this
// transport takes each client's requests, sends them as RESP commands over
// that client's own TCP connection to its server's client port, and hands
// the replies back as Maelstrom reply bodies. One connection per client,
// opened lazily, reopened (a reconnect) when it broke or when the client gave
// up on a request (a timeout: the stale reply would block the connection).
//
// Outcomes of requests without a RESP reply: never written to the socket
// (connect refused or failed) -> error 11, definite; written, then the
// connection closed or reset -> error 13, indefinite (info for write/cas).
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "event_loop.h"
#include "network.h"
#include "problems.h"
#include "resp_client.h"

namespace runner {

struct TcpCounters {
  int64_t connects = 0;          // connection attempts
  int64_t reconnects = 0;        // attempts by a client that had a connection before
  int64_t connect_failures = 0;  // refused, unreachable, ...
  int64_t closed_by_server = 0;  // EOF or reset on an open connection
  int64_t abandoned = 0;         // closed by the client after a timeout
  int64_t requests = 0;
  int64_t replies = 0;
  int64_t lost_in_flight = 0;  // requests written whose connection then broke
};

class TcpTransport {
 public:
  // Makes a non-blocking TCP socket where the servers are reachable.
  using SocketFactory = std::function<int()>;

  TcpTransport(EventLoop& loop, Network& net, Problems& problems, SocketFactory make_socket,
               std::map<std::string, sockaddr_in> servers, CasStyle cas);
  ~TcpTransport();
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // A client's request (src = client id, dest = node id).
  void send(Message m);

  const TcpCounters& counters() const { return counters_; }
  nlohmann::json summary() const;

 private:
  struct Pending {
    int64_t msg_id = 0;
    std::string f;
    uint64_t end = 0;  // stream offset just past this request's bytes
    uint64_t start = 0;
  };
  struct Conn {
    std::string client;
    std::string node;
    int fd = -1;
    bool connected = false;
    bool ever_opened = false;
    std::string out;
    uint64_t queued = 0;   // bytes ever queued on this connection
    uint64_t written = 0;  // bytes ever written to the socket
    RespReplyReader reader;
    std::deque<Pending> pending;
    int64_t next_connect_ns = 0;  // backoff after a failed connect
  };

  void open(Conn& c);
  void on_event(Conn& c, short revents);
  void finish_connect(Conn& c);
  void flush(Conn& c);
  void read_replies(Conn& c);
  // Closes the socket; pending requests get error replies (see above).
  void close_conn(Conn& c, const std::string& why);
  void reply(const std::string& client, const std::string& node, raftkv::maelstrom::Json body);
  void update_events(Conn& c);

  EventLoop& loop_;
  Network& net_;
  Problems& problems_;
  SocketFactory make_socket_;
  std::map<std::string, sockaddr_in> servers_;
  CasStyle cas_;
  std::map<std::string, Conn> conns_;  // by client id
  TcpCounters counters_;
};

}  // namespace runner

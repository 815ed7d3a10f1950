// A generic non-blocking TCP server on an EventLoop: the RESP client port,
// the /metrics HTTP port and the peer transport's inbound side all use it.
//
// Bytes in arrive through on_data as the kernel hands them over (no
// framing here). Bytes out are buffered per connection and written when the
// socket is writable, so one loop turn's replies leave in as few syscalls as
// possible; flush(id) writes at once. The server never blocks and never
// raises SIGPIPE (MSG_NOSIGNAL). Memory per connection is its unsent output
// (watch pending_output() and pause_reading() to push back on a client that
// does not read) plus one shared read buffer.
//
// When the process is out of fds (EMFILE/ENFILE) the server accepts and at
// once closes the pending connection with a spare fd it keeps for that
// purpose, so the listening socket does not stay readable and spin the
// loop; if even that fails it stops watching the listening socket until one
// of its connections closes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "net/event_loop.h"
#include "net/socket.h"

namespace raftkv::net {

using ConnId = uint64_t;  // never reused within one TcpServer

using LogFn = std::function<void(std::string_view line)>;
// Writes "<prefix>: line" on stderr.
LogFn stderr_log(std::string prefix);

struct TcpCallbacks {
  std::function<void(ConnId)> on_open{};
  std::function<void(ConnId, std::string_view bytes)> on_data{};
  // Called once per opened connection when it closes for any reason: the
  // peer closed or reset it, an I/O error, or close()/close_after_flush().
  // The id is already gone (send() to it is ignored).
  std::function<void(ConnId)> on_close{};
  // Optional. The client sent EOF (shut down its writing side) but may still
  // read: reading stops, and the owner decides when to close (usually
  // close_after_flush() once every answer it owes is queued). When unset,
  // the server does close_after_flush() itself, so output queued so far
  // still reaches the client.
  std::function<void(ConnId)> on_read_closed{};
};

struct TcpServerOptions {
  size_t read_chunk_bytes = 64 << 10;
  int reads_per_event = 4;     // then other connections get a turn
  int accepts_per_event = 64;  // likewise for a connection storm
  LogFn log = stderr_log("tcp");
};

struct TcpServerStats {
  uint64_t accepted = 0;
  uint64_t refused_no_fds = 0;  // accepted and closed at once on EMFILE/ENFILE
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
};

class TcpServer {
 public:
  TcpServer(EventLoop& loop, TcpCallbacks callbacks, TcpServerOptions options = {});
  // Closes the listener and every connection without calling on_close.
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Binds host:port (IPv4, SO_REUSEADDR; port 0 picks one) and starts
  // accepting. Throws std::runtime_error with the address and reason.
  void listen(const std::string& host, uint16_t port);
  uint16_t port() const { return port_; }  // the bound port, after listen()
  void stop_accepting();                   // closes the listening socket

  // Queues bytes for the connection; ignored for unknown/closed ids.
  void send(ConnId id, std::string_view bytes);
  // Writes queued output now, as far as the socket takes it.
  void flush(ConnId id);
  // Stops reading, writes what is queued, then closes.
  void close_after_flush(ConnId id);
  void close(ConnId id);  // at once, dropping queued output
  void pause_reading(ConnId id, bool paused);

  bool is_open(ConnId id) const { return conns_.count(id) > 0; }
  size_t pending_output(ConnId id) const;
  size_t connection_count() const { return conns_.size(); }
  std::string peer_address(ConnId id) const;  // "1.2.3.4:5678"
  const TcpServerStats& stats() const { return stats_; }

 private:
  struct Conn {
    Fd fd;
    std::string out;
    size_t out_offset = 0;
    bool paused = false;
    bool closing = false;      // close_after_flush
    bool read_closed = false;  // the client sent EOF
    bool reading() const { return !paused && !closing && !read_closed; }
    uint32_t events = 0;  // currently registered
    std::string peer;
  };

  void on_listener_ready();
  void accept_one_refused();
  void open(Fd fd, std::string peer);
  void on_conn_ready(ConnId id, uint32_t events);
  void read_some(ConnId id);
  void read_closed(ConnId id);
  bool write_some(ConnId id, Conn& c);  // false: the connection failed
  void update_events(ConnId id, Conn& c);
  Conn* find(ConnId id);
  void resume_accepting();

  EventLoop& loop_;
  TcpCallbacks callbacks_;
  TcpServerOptions options_;
  Fd listener_;
  Fd spare_;  // reserved for EMFILE handling
  bool accept_paused_ = false;
  uint16_t port_ = 0;
  ConnId next_id_ = 1;
  std::unordered_map<ConnId, std::unique_ptr<Conn>> conns_;
  std::string read_buf_;
  TcpServerStats stats_;
};

}  // namespace raftkv::net

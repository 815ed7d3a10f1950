// Many concurrent HTTP/1.1 POSTs on one thread with libcurl's multi
// interface. Connections stay in the multi handle's cache, so steady load
// reuses keep-alive connections instead of reconnecting per request.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

typedef void CURLM;

namespace raftkv::etcd {

struct HttpResult {
  uint64_t id = 0;
  long status = 0;    // HTTP status, 0 if no response arrived
  bool sent = true;   // false when the request certainly never left (connect failed)
  std::string error;  // transport error text, empty on a complete response
  std::string body;
};

class HttpClient {
 public:
  HttpClient(long timeout_ms, long max_connections);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void post(uint64_t id, const std::string& url, std::string body);
  // Sleeps until a transfer has work, extra_fd (if >= 0) is readable, or
  // timeout_ms passes. Returns true when extra_fd is readable.
  bool wait(int extra_fd, int timeout_ms);
  // Drives transfers and reports each finished one.
  void perform(const std::function<void(HttpResult&)>& done);
  size_t in_flight() const { return in_flight_; }
  // TCP connections opened so far: far below the request count when
  // keep-alive reuse works.
  uint64_t connects() const { return connects_; }

 private:
  struct Transfer;
  CURLM* multi_;
  long timeout_ms_;
  size_t in_flight_ = 0;
  uint64_t connects_ = 0;
  std::vector<Transfer*> idle_;  // finished transfers kept to reuse their easy handles
};

}  // namespace raftkv::etcd

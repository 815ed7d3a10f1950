// The Maelstrom side of the etcd adapter: parses lin-kv requests, turns
// them into etcd gateway calls, and turns etcd's answers into replies.
// It does no I/O itself, so the same logic runs under any event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http.h"
#include "maelstrom/message.h"

namespace raftkv::etcd {

struct AdapterOptions {
  std::vector<std::string> endpoints;  // e.g. http://127.0.0.1:2379
  bool noop = false;                   // answer at once, never call etcd
};

class Adapter {
 public:
  using Out = std::function<void(std::string line)>;
  using Call = std::function<void(uint64_t id, const std::string& url, std::string body)>;
  Adapter(AdapterOptions opts, Out out, Call call);

  void handle_line(std::string_view line);
  void on_result(HttpResult& r);

  uint64_t requests() const { return requests_; }
  uint64_t failures() const { return failures_; }

 private:
  enum class Op { kRead, kWrite, kCas };
  struct Pending {
    std::string client;
    int64_t msg_id;
    Op op;
    bool create_if_not_exists;
  };
  void reply(const std::string& client, int64_t msg_id, std::string_view type,
             const std::function<void(maelstrom::Json&)>& fill = {});
  void reply_error(const std::string& client, int64_t msg_id, int code, std::string_view text);
  void handle_init(const std::string& src, int64_t msg_id, const maelstrom::Json& body);
  void handle_op(const std::string& src, int64_t msg_id, Op op, const maelstrom::Json& b);

  AdapterOptions opts_;
  Out out_;
  Call call_;
  std::string id_;
  std::string base_url_;  // this node's etcd endpoint
  int64_t next_msg_id_ = 0;
  uint64_t next_call_ = 0;
  uint64_t requests_ = 0;
  uint64_t failures_ = 0;
  std::unordered_map<uint64_t, Pending> pending_;
};

}  // namespace raftkv::etcd

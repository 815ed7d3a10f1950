// --net netns: the runner's private network. Every server gets its own
// network namespace with one veth (eth0, 10.77.0.<i+1>/24); the other ends sit
// on a bridge (br0, 10.77.0.254/24) inside a namespace of its own, where the
// runner also opens its client sockets. The host's interfaces are never
// touched: every address and link lives in a namespace this runner made.
//
// Names are "mrn-<pid>-<suffix>", so leftovers of a runner that was killed
// can be found: each run holds a flock on /run/maelstrom-runner-netns/
// mrn-<pid>.lock, and at start every mrn-* namespace whose lock nobody holds
// is deleted. Deleting a namespace destroys the veth pairs and nftables rules
// inside it. Namespaces are also deleted from fatal-signal handlers, so
// Ctrl-C, SIGTERM or a crash of the runner leaves nothing behind.
#pragma once

#include <netinet/in.h>

#include <string>
#include <vector>

namespace runner {

class NetnsTopology {
 public:
  static constexpr const char* kPrefix = "mrn-";
  static constexpr const char* kSubnet = "10.77.0.0/24";
  static constexpr int kMaxNodes = 250;

  NetnsTopology() = default;
  ~NetnsTopology();
  NetnsTopology(const NetnsTopology&) = delete;
  NetnsTopology& operator=(const NetnsTopology&) = delete;

  // Removes stale namespaces of dead runs, then builds the bridge and one
  // namespace per node. On failure everything made so far is removed.
  bool create(const std::vector<std::string>& nodes, std::string* error);
  // Deletes every namespace of this run (idempotent).
  void remove();

  // Path of a node's namespace file, for setns() in the child process.
  std::string node_netns_path(size_t index) const;
  std::string node_netns_name(size_t index) const;
  std::string node_address(size_t index) const;  // "10.77.0.<i+1>"
  std::string client_address() const { return "10.77.0.254"; }
  const std::string& tag() const { return tag_; }
  int stale_removed() const { return stale_removed_; }

  // A non-blocking TCP socket inside the bridge namespace (where clients
  // live); -1 with errno on failure.
  int client_socket() const;

  // Runs argv inside namespace `ns` (a name under /run/netns) with `input` on
  // stdin; returns the exit status (or -1) and puts stdout+stderr in *output.
  static int run_in(const std::string& ns, const std::vector<std::string>& argv,
                    const std::string& input, std::string* output);
  // Runs argv in the runner's own namespace (ip netns add, ip -n ...).
  static int run(const std::vector<std::string>& argv, std::string* output);

  // Deletes mrn-* namespaces whose run no longer holds its lock (and any of
  // own_tag, a dead run with our pid). Returns how many it deleted.
  static int sweep_stale(const std::string& own_tag);
  // Namespaces in /run/netns named "<tag>-*".
  static int count_namespaces(const std::string& tag);

 private:
  bool add_namespace(const std::string& name, std::string* error);
  bool wire_node(size_t index, std::string* error);

  std::string tag_;
  int lock_fd_ = -1;
  int bridge_ns_fd_ = -1;
  int host_ns_fd_ = -1;
  std::vector<std::string> names_;  // every namespace made, bridge first
  int stale_removed_ = 0;
};

// Deletes the namespace /run/netns/<name>: lazy unmount and unlink, what
// `ip netns delete` does. Async-signal-safe.
void delete_netns_file(const char* path);

}  // namespace runner

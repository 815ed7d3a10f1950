#include "cluster.h"

#include <fmt/format.h>
#include <sys/wait.h>

#include <filesystem>

#include "clock.h"

namespace runner {

namespace fs = std::filesystem;

constexpr int64_t kInitTimeout = 10 * kSec;

Cluster::Cluster(EventLoop& loop, Network& net, Problems& problems, const Options& opts,
                 const std::string& run_dir, int* next_client)
    : loop_(loop),
      net_(net),
      problems_(problems),
      opts_(opts),
      next_client_(next_client),
      ids_(opts.nodes) {
  fs::create_directories(run_dir + "/node-logs");
  for (const auto& id : ids_) {
    NodeSpec spec;
    spec.id = id;
    spec.bin = opts.bin;
    spec.args = opts.args;
    spec.dir = fs::absolute(run_dir + "/nodes/" + id).string();
    spec.log_path = run_dir + "/node-logs/" + id + ".log";
    spec.echo_stderr = opts.log_stderr;
    fs::create_directories(spec.dir);
    procs_.push_back(std::make_unique<NodeProcess>(
        loop, spec,
        [this](const std::string& node, std::string line) {
          net_.on_node_line(node, std::move(line));
        },
        [this](const std::string& node, int status) {
          ++crashes_;
          problems_.add("node-exited",
                        fmt::format("{} {} without being killed", node,
                                    WIFEXITED(status)
                                        ? fmt::format("exited with status {}", WEXITSTATUS(status))
                                        : fmt::format("died of signal {}", WTERMSIG(status))));
        }));
    net.add_node(procs_.back().get());
  }
}

NodeProcess& Cluster::proc(const std::string& node) {
  for (auto& p : procs_)
    if (p->id() == node) return *p;
  throw std::out_of_range("no node " + node);
}

std::vector<NodeProcess*> Cluster::processes() const {
  std::vector<NodeProcess*> out;
  for (auto& p : procs_) out.push_back(p.get());
  return out;
}

bool Cluster::start_all(std::string* error) {
  for (auto& p : procs_) {
    if (!p->start(error)) {
      *error = fmt::format("could not start {}: {}", p->id(), *error);
      return false;
    }
  }
  return true;
}

void Cluster::send_init(const std::string& node, bool restart) {
  auto client = std::make_unique<Client>(loop_, net_, fmt::format("c{}", (*next_client_)++));
  raftkv::maelstrom::Json body;
  body["type"] = "init";
  body["node_id"] = node;
  body["node_ids"] = ids_;
  ++pending_inits_;
  int incarnation = incarnation_[node];
  client->rpc(node, body, kInitTimeout,
              [this, node, restart, incarnation](const std::optional<Message>& reply) {
                --pending_inits_;
                std::string when = restart ? "after restart" : "at startup";
                if (!reply && incarnation_[node] != incarnation)
                  return;  // killed before it could answer
                if (!reply) {
                  ++init_failures_;
                  problems_.add("init-timeout",
                                fmt::format("{} did not answer init within 10 s {}", node, when));
                } else if (reply->type() != "init_ok") {
                  ++init_failures_;
                  problems_.add("init-failed",
                                fmt::format("{} answered init {} with {}", node, when,
                                            raftkv::maelstrom::serialize(*reply)));
                }
              });
  init_clients_.push_back(std::move(client));
}

bool Cluster::init_all(std::string* error) {
  for (const auto& id : ids_) send_init(id, false);
  loop_.run_until([this] { return pending_inits_ == 0; });
  if (init_failures_ > 0) {
    *error = "nodes failed to initialise (see problems above)";
    return false;
  }
  return true;
}

void Cluster::restart_crashed() {
  for (auto& p : procs_)
    if (!p->running()) restart(p->id());
}

void Cluster::stop_all() {
  for (auto& p : procs_) p->kill();
}

void Cluster::kill(const std::string& node) {
  ++incarnation_[node];
  proc(node).kill();
}

void Cluster::restart(const std::string& node) {
  NodeProcess& p = proc(node);
  if (p.running()) return;
  std::string error;
  if (!p.start(&error)) {
    problems_.add("restart-failed", fmt::format("could not restart {}: {}", node, error));
    return;
  }
  send_init(node, true);
}

void Cluster::pause(const std::string& node) {
  proc(node).pause();
}
void Cluster::resume(const std::string& node) {
  proc(node).resume();
}
void Cluster::partition(const Grudge& grudge) {
  net_.set_grudge(grudge);
}
void Cluster::heal_partition() {
  net_.heal();
}

}  // namespace runner

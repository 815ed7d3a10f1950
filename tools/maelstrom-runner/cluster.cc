#include "cluster.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "clock.h"
#include "ctl_client.h"

namespace runner {

namespace fs = std::filesystem;

constexpr int64_t kInitTimeout = 10 * kSec;

namespace {

// --initial-members K < N: the first K nodes bootstrap as the cluster, the
// others wait to be added. With K = N the nodes get no extra flags, so nodes
// that know nothing of membership run as before.
void append_membership_args(const Options& opts, const std::vector<std::string>& ids, size_t index,
                            std::vector<std::string>* args) {
  size_t k = static_cast<size_t>(opts.initial_members);
  if (k == 0 || k >= ids.size()) return;
  if (index >= k) {
    args->push_back("--join");
    return;
  }
  std::string members;
  for (size_t i = 0; i < k; ++i) members += (i ? "," : "") + ids[i];
  args->insert(args->end(), {"--initial-members", members});
}

}  // namespace

Cluster::Cluster(EventLoop& loop, Network& net, Problems& problems, const Options& opts,
                 const std::string& run_dir, int* next_client, ClusterHooks hooks)
    : loop_(loop),
      net_(net),
      problems_(problems),
      opts_(opts),
      next_client_(next_client),
      ids_(opts.nodes),
      run_dir_(run_dir),
      hooks_(std::move(hooks)) {
  fs::create_directories(run_dir + "/node-logs");
  for (const auto& id : ids_) {
    NodeSpec spec;
    spec.id = id;
    spec.bin = opts.bin;
    spec.args = opts.args;
    append_membership_args(opts, ids_, procs_.size(), &spec.args);
    spec.dir = fs::absolute(run_dir + "/nodes/" + id).string();
    spec.log_path = run_dir + "/node-logs/" + id + ".log";
    spec.echo_stderr = opts.log_stderr;
    fs::create_directories(spec.dir);
    if (hooks_.customize) hooks_.customize(spec, procs_.size());
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

Cluster::~Cluster() {
  stop_all();
}

namespace {

// lossyfs sits next to the runner in the build directory; RAFTKV_LOSSYFS
// overrides.
std::string lossyfs_binary() {
  if (const char* env = std::getenv("RAFTKV_LOSSYFS")) return env;
  std::error_code ec;
  return (fs::read_symlink("/proc/self/exe", ec).parent_path() / "lossyfs").string();
}

void run_quiet(const std::vector<std::string>& argv_s) {
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, 1);
      dup2(null, 2);
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  if (pid > 0) waitpid(pid, nullptr, 0);
}

}  // namespace

bool Cluster::mount_disks(std::string* error) {
  std::string bin = lossyfs_binary();
  if (access(bin.c_str(), X_OK) != 0) {
    *error = fmt::format("--nemesis power needs lossyfs at {} (build target lossyfs)", bin);
    return false;
  }
  for (auto& p : procs_) {
    const std::string& id = p->id();
    Disk d;
    d.mount = fs::absolute(run_dir_ + "/nodes/" + id).string();
    std::string backing = fs::absolute(run_dir_ + "/lossyfs/" + id).string();
    // Socket paths are short (108 bytes); the run dir may not be.
    d.ctl = fmt::format("/tmp/lossyfs-{}-{}.sock", getpid(), id);
    std::string log = run_dir_ + "/node-logs/" + id + ".lossyfs.log";
    fs::create_directories(backing);
    std::vector<std::string> argv_s{bin, "--die-with-parent", "--ctl", d.ctl, backing, d.mount};
    std::vector<char*> argv;
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
      *error = fmt::format("fork: {}", strerror(errno));
      return false;
    }
    if (pid == 0) {
      setpgid(0, 0);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      if (getppid() != parent) _exit(127);
      execv(argv[0], argv.data());
      _exit(127);
    }
    d.pid = pid;
    disks_[id] = d;
    // The control socket answers once the kernel has initialised the mount.
    bool up = false;
    for (int i = 0; i < 200 && !up; ++i) {
      if (fs::exists(d.ctl)) up = lossyfs::control(d.ctl, "ping", 10) == "ok";
      if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (!up) {
      *error = fmt::format("lossyfs for {} did not come up (see {})", id, log);
      return false;
    }
  }
  return true;
}

void Cluster::unmount_disks() {
  for (auto& [id, d] : disks_) {
    if (d.pid <= 0) continue;
    run_quiet({"fusermount3", "-u", d.mount});
    // lossyfs exits once unmounted (the reaper may already have collected it).
    bool gone = false;
    for (int i = 0; i < 200 && !gone; ++i) {
      pid_t r = waitpid(d.pid, nullptr, WNOHANG);
      gone = r == d.pid || (r < 0 && errno == ECHILD);
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!gone) {
      ::kill(d.pid, SIGKILL);
      waitpid(d.pid, nullptr, 0);
      run_quiet({"fusermount3", "-uz", d.mount});
    }
    d.pid = -1;
  }
}

void Cluster::power_cut(const std::string& node, uint64_t seed) {
  kill(node);  // SIGKILL and reap: no more writes from it
  auto it = disks_.find(node);
  if (it == disks_.end()) return;  // no lossyfs: a plain kill
  std::string reply = lossyfs::control(it->second.ctl, fmt::format("cut tear seed={}", seed));
  ++node_cuts_;
  cut_down_.insert(node);
  std::smatch m;
  if (std::regex_search(reply, m, std::regex("dropped_bytes=(\\d+)")))
    dropped_bytes_ += std::stoll(m[1]);
  if (std::regex_search(reply, m, std::regex("torn_bytes=(\\d+)"))) torn_bytes_ += std::stoll(m[1]);
  if (reply.rfind("ok", 0) != 0) {
    ++cut_errors_;
    problems_.add("power-cut-failed", fmt::format("{}: {}", node, reply));
  }
}

nlohmann::json Cluster::power_summary() const {
  if (disks_.empty()) return nullptr;
  int64_t restarts = 0;
  for (auto& [n, k] : restarts_after_cut_) restarts += k;
  // Snapshot installs over the whole run (the nodes log each one).
  int64_t installs = 0;
  for (auto& p : procs_) {
    std::ifstream in(run_dir_ + "/node-logs/" + p->id() + ".log");
    for (std::string line; std::getline(in, line);)
      if (line.find("installed snapshot") != std::string::npos) ++installs;
  }
  return {{"node-cuts", node_cuts_},
          {"restarts-after-cut", restarts},
          {"dropped-unsynced-bytes", dropped_bytes_},
          {"torn-bytes", torn_bytes_},
          {"cut-errors", cut_errors_},
          {"snapshot-installs", installs},
          {"node-exits", crashes_}};
}

bool Cluster::start_all(std::string* error) {
  if (opts_.nemesis.count("power") && disks_.empty() && !mount_disks(error)) return false;
  for (auto& p : procs_) {
    if (!p->start(error)) {
      *error = fmt::format("could not start {}: {}", p->id(), *error);
      return false;
    }
  }
  return true;
}

void Cluster::send_init(const std::string& node, bool restart) {
  if (!hooks_.maelstrom_init) return;
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
  unmount_disks();
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
  if (cut_down_.erase(node)) ++restarts_after_cut_[node];
  send_init(node, true);
}

bool Cluster::replace(const std::string& node, std::string* error) {
  kill(node);
  NodeProcess& p = proc(node);
  // The working directory stays (it may be a lossyfs mount); its contents
  // are the node's data.
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(p.spec().dir, ec)) {
    fs::remove_all(entry.path(), ec);
    if (ec) break;
  }
  if (ec) {
    *error = fmt::format("cannot wipe {}: {}", p.spec().dir, ec.message());
    return false;
  }
  // A new machine joins; it is not one of the bootstrap members.
  std::vector<std::string> args;
  const auto& old = p.spec().args;
  for (size_t i = 0; i < old.size(); ++i) {
    if (old[i] == "--initial-members" && i + 1 < old.size()) {
      ++i;
      continue;
    }
    if (old[i] != "--join" && old[i].rfind("--initial-members=", 0) != 0) args.push_back(old[i]);
  }
  args.push_back("--join");
  p.set_args(std::move(args));
  restart(node);
  if (!p.running()) {
    *error = fmt::format("{} did not start again", node);
    return false;
  }
  return true;
}

void Cluster::pause(const std::string& node) {
  proc(node).pause();
}
void Cluster::resume(const std::string& node) {
  proc(node).resume();
}
void Cluster::partition(const Grudge& grudge) {
  if (hooks_.partition) return hooks_.partition(grudge);
  net_.set_grudge(grudge);
}
void Cluster::heal_partition() {
  if (hooks_.heal) return hooks_.heal();
  net_.heal();
}

}  // namespace runner

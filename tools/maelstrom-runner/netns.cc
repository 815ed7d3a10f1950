#include "netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "process.h"

namespace runner {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNetnsDir = "/run/netns";
constexpr const char* kLockDir = "/run/maelstrom-runner-netns";

// Namespace files to delete from a signal handler: fixed storage, no
// allocation there.
constexpr int kMaxRegistered = NetnsTopology::kMaxNodes + 8;
struct Registered {
  std::atomic<bool> used{false};
  char path[128] = {};
};
std::array<Registered, kMaxRegistered> g_registered;

void register_path(const std::string& path) {
  for (auto& r : g_registered) {
    if (r.used.load()) continue;
    std::snprintf(r.path, sizeof r.path, "%s", path.c_str());
    r.used.store(true);
    return;
  }
}

void unregister_path(const std::string& path) {
  for (auto& r : g_registered)
    if (r.used.load() && path == r.path) r.used.store(false);
}

void delete_registered() {
  for (auto& r : g_registered)
    if (r.used.exchange(false)) delete_netns_file(r.path);
}

void on_fatal_signal(int sig) {
  // Servers first: a namespace lives on while a process is inside it.
  kill_all_children();
  delete_registered();
  signal(sig, SIG_DFL);
  raise(sig);
}

// Replaces process.cc's handlers for the same signals (they only kill the
// children, which this one does too) and adds the crash signals.
void install_cleanup_once() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  std::atexit(delete_registered);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL})
    signal(sig, on_fatal_signal);
}

std::string ns_path(const std::string& name) {
  return std::string(kNetnsDir) + "/" + name;
}

// "mrn-<pid>-..." -> "mrn-<pid>"; "" if the name is not ours.
std::string tag_of(const std::string& name) {
  std::string prefix = NetnsTopology::kPrefix;
  if (name.rfind(prefix, 0) != 0) return "";
  size_t dash = name.find('-', prefix.size());
  if (dash == std::string::npos || dash == prefix.size()) return "";
  return name.substr(0, dash);
}

// True if the run owning `tag` is alive (it holds its lock file).
bool run_alive(const std::string& tag) {
  std::string lock = fmt::format("{}/{}.lock", kLockDir, tag);
  int fd = open(lock.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  // The file stays: a run that just created it may be about to lock it.
  close(fd);
  return held;
}

int exec_capture(const std::string& ns, const std::vector<std::string>& argv_s,
                 const std::string& input, std::string* output) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return -1;
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return -1;
  }
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(const_cast<char*>(s.c_str()));
  argv.push_back(nullptr);
  std::string path = ns.empty() ? "" : ns_path(ns);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    signal(SIGPIPE, SIG_DFL);
    if (!path.empty()) {
      int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) _exit(126);
    }
    execvp(argv[0], argv.data());
    const char msg[] = "cannot execute ";
    (void)!write(2, msg, sizeof msg - 1);
    (void)!write(2, argv[0], strlen(argv[0]));
    (void)!write(2, "\n", 1);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  if (pid < 0) {
    close(in[1]);
    close(out[0]);
    return -1;
  }
  // Inputs are small rulesets: they fit the pipe buffer.
  if (!input.empty()) (void)!write(in[1], input.data(), input.size());
  close(in[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && output) output->append(buf, n);
  close(out[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

void delete_netns_file(const char* path) {
  umount2(path, MNT_DETACH);
  unlink(path);
}

int NetnsTopology::run_in(const std::string& ns, const std::vector<std::string>& argv,
                          const std::string& input, std::string* output) {
  return exec_capture(ns, argv, input, output);
}

int NetnsTopology::run(const std::vector<std::string>& argv, std::string* output) {
  return exec_capture("", argv, "", output);
}

int NetnsTopology::sweep_stale(const std::string& own_tag) {
  std::vector<std::string> stale;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kNetnsDir, ec)) {
    std::string name = e.path().filename().string();
    std::string tag = tag_of(name);
    if (tag.empty()) continue;
    if (tag == own_tag || !run_alive(tag)) stale.push_back(name);
  }
  for (const auto& name : stale) delete_netns_file(ns_path(name).c_str());
  return static_cast<int>(stale.size());
}

int NetnsTopology::count_namespaces(const std::string& tag) {
  int n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kNetnsDir, ec))
    if (e.path().filename().string().rfind(tag + "-", 0) == 0) ++n;
  return n;
}

NetnsTopology::~NetnsTopology() {
  remove();
}

bool NetnsTopology::add_namespace(const std::string& name, std::string* error) {
  register_path(ns_path(name));  // before it exists: a signal may come at any time
  names_.push_back(name);
  std::string out;
  if (run({"ip", "netns", "add", name}, &out) != 0) {
    *error = fmt::format("ip netns add {}: {}", name, out);
    return false;
  }
  return true;
}

bool NetnsTopology::create(const std::vector<std::string>& nodes, std::string* error) {
  if (nodes.size() > static_cast<size_t>(kMaxNodes)) {
    *error = fmt::format("--net netns supports at most {} nodes", kMaxNodes);
    return false;
  }
  install_cleanup_once();
  tag_ = fmt::format("{}{}", kPrefix, getpid());
  fs::create_directories(kLockDir);
  lock_fd_ =
      open(fmt::format("{}/{}.lock", kLockDir, tag_).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0 || flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    *error = fmt::format("cannot lock {}/{}.lock: {}", kLockDir, tag_, strerror(errno));
    return false;
  }
  stale_removed_ = sweep_stale(tag_);
  auto fail = [&] {
    remove();
    return false;
  };
  std::string br = tag_ + "-br", out;
  if (!add_namespace(br, error)) return fail();
  for (auto cmd : std::vector<std::vector<std::string>>{
           {"ip", "-n", br, "link", "set", "lo", "up"},
           {"ip", "-n", br, "link", "add", "br0", "type", "bridge"},
           {"ip", "-n", br, "addr", "add", client_address() + "/24", "dev", "br0"},
           {"ip", "-n", br, "link", "set", "br0", "up"}}) {
    if (run(cmd, &out) != 0) {
      *error = fmt::format("{}: {}", fmt::join(cmd, " "), out);
      return fail();
    }
  }
  for (size_t i = 0; i < nodes.size(); ++i)
    if (!wire_node(i, error)) return fail();
  host_ns_fd_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  bridge_ns_fd_ = open(ns_path(br).c_str(), O_RDONLY | O_CLOEXEC);
  if (host_ns_fd_ < 0 || bridge_ns_fd_ < 0) {
    *error = fmt::format("open namespace files: {}", strerror(errno));
    return fail();
  }
  return true;
}

bool NetnsTopology::wire_node(size_t i, std::string* error) {
  std::string ns = node_netns_name(i), br = tag_ + "-br", out;
  if (!add_namespace(ns, error)) return false;
  std::string veth = fmt::format("v{}", i);
  for (auto cmd : std::vector<std::vector<std::string>>{
           {"ip", "-n", br, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns",
            ns},
           {"ip", "-n", br, "link", "set", veth, "master", "br0", "up"},
           {"ip", "-n", ns, "addr", "add", node_address(i) + "/24", "dev", "eth0"},
           {"ip", "-n", ns, "link", "set", "eth0", "up"},
           {"ip", "-n", ns, "link", "set", "lo", "up"}}) {
    if (run(cmd, &out) != 0) {
      *error = fmt::format("{}: {}", fmt::join(cmd, " "), out);
      return false;
    }
  }
  return true;
}

void NetnsTopology::remove() {
  for (int* fd : {&bridge_ns_fd_, &host_ns_fd_})
    if (*fd >= 0) {
      close(*fd);
      *fd = -1;
    }
  for (const auto& name : names_) {
    delete_netns_file(ns_path(name).c_str());
    unregister_path(ns_path(name));
  }
  names_.clear();
  if (lock_fd_ >= 0) {
    unlink(fmt::format("{}/{}.lock", kLockDir, tag_).c_str());
    close(lock_fd_);
    lock_fd_ = -1;
  }
}

std::string NetnsTopology::node_netns_name(size_t index) const {
  return fmt::format("{}-n{}", tag_, index);
}

std::string NetnsTopology::node_netns_path(size_t index) const {
  return ns_path(node_netns_name(index));
}

std::string NetnsTopology::node_address(size_t index) const {
  return fmt::format("10.77.0.{}", index + 1);
}

int NetnsTopology::client_socket() const {
  if (setns(bridge_ns_fd_, CLONE_NEWNET) != 0) return -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int saved = errno;
  // The runner must be back in its own namespace whatever happened.
  if (setns(host_ns_fd_, CLONE_NEWNET) != 0) {
    fmt::print(stderr, "maelstrom-runner: cannot return to the host namespace: {}\n",
               strerror(errno));
    std::abort();
  }
  errno = saved;
  return fd;
}

}  // namespace runner

#include "serve_cluster.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace raftkv::test {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// The start of the kernel's range for outgoing connections' source ports.
// A server's port chosen inside it could be taken, before that server
// starts, by another server's connection to a peer.
int ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  in >> low;
  return low;
}

// Binds a listening-style socket to 127.0.0.1:port (0: any); the fd and
// the port bound, or fd -1.
std::pair<int, uint16_t> bind_port(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) close(fd);
    return {-1, 0};
  }
  return {fd, ntohs(a.sin_port)};
}

// n distinct free ports below the ephemeral range (random, so parallel
// tests rarely meet), all bound at once, then released for the servers.
std::vector<uint16_t> free_ports(size_t n) {
  int low = ephemeral_low();
  std::mt19937 rng(std::random_device{}());
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  for (int attempt = 0; ports.size() < n && attempt < 1000; ++attempt) {
    uint16_t candidate = 0;  // the kernel's choice if there is no room below the range
    if (low > 11000) candidate = static_cast<uint16_t>(10000 + rng() % (low - 10000));
    auto [fd, port] = bind_port(candidate);
    if (fd < 0) continue;
    fds.push_back(fd);
    ports.push_back(port);
  }
  for (int fd : fds) close(fd);
  if (ports.size() < n) throw std::runtime_error("cannot find free ports");
  return ports;
}

std::string make_temp_dir() {
  std::string pattern = (fs::temp_directory_path() / "raftkv-serve-XXXXXX").string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

std::string address(uint16_t port) {
  return fmt::format("127.0.0.1:{}", port);
}

bool answers_ping(uint16_t port) {
  try {
    RespClient c(port, Millis(1000));
    return show(c.call({"PING"})) == "PONG";
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

ServeCluster::ServeCluster(ServeClusterOptions options)
    : options_(std::move(options)), dir_(make_temp_dir()) {
  std::vector<uint16_t> ports = free_ports(3 * static_cast<size_t>(options_.servers));
  for (int i = 0; i < options_.servers; ++i) {
    std::string id = fmt::format("n{}", i + 1);
    ids_.push_back(id);
    Server& s = servers_[id];
    s.peer = ports[3 * i];
    s.client = ports[3 * i + 1];
    s.metrics = ports[3 * i + 2];
  }
}

ServeCluster::~ServeCluster() {
  for (auto& [id, s] : servers_) {
    if (s.pid > 0) {
      ::kill(s.pid, SIGKILL);
      waitpid(s.pid, nullptr, 0);
    }
  }
  if (!std::getenv("RAFTKV_KEEP_TEST_DIRS")) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

bool ServeCluster::is_joiner(const std::string& id) const {
  auto at = std::find(ids_.begin(), ids_.end(), id);
  return at - ids_.begin() >= options_.servers - options_.joiners;
}

std::vector<std::string> ServeCluster::command_line(const std::string& id) const {
  std::string peers;
  for (const auto& [other, s] : servers_) {
    if (is_joiner(other) && !is_joiner(id)) continue;  // the founders know of no newcomer
    if (!peers.empty()) peers += ',';
    peers += other + "=" + address(s.peer);
  }
  const Server& s = servers_.at(id);
  std::vector<std::string> args = {RAFTKV_BINARY, "serve", "--id",        id,
                                   "--peers",     peers,   "--client",    address(s.client),
                                   "--data-dir",  dir_,    "--log-level", "info"};
  if (options_.metrics) {
    args.push_back("--metrics");
    args.push_back(address(s.metrics));
  }
  if (is_joiner(id)) args.push_back("--join");
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

void ServeCluster::start_all() {
  for (const auto& id : ids_) start(id);
}

void ServeCluster::start(const std::string& id) {
  Server& s = servers_.at(id);
  if (s.pid > 0) throw std::logic_error(id + " is already running");
  std::vector<std::string> args = command_line(id);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string log_path = dir_ + "/" + id + ".log";
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) throw std::runtime_error("cannot open " + log_path);
  pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    dup2(null_fd, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(log_fd);
  close(null_fd);
  if (pid < 0) throw std::runtime_error("fork failed");
  s.pid = pid;
  auto deadline = Clock::now() + Millis(15000);
  while (!answers_ping(s.client)) {
    if (!alive(id)) throw std::runtime_error(id + " exited at start:\n" + log_tail(id));
    if (Clock::now() > deadline) throw std::runtime_error(id + " does not answer PING");
    std::this_thread::sleep_for(Millis(20));
  }
}

void ServeCluster::kill9(const std::string& id) {
  Server& s = servers_.at(id);
  if (s.pid <= 0) return;
  ::kill(s.pid, SIGKILL);
  waitpid(s.pid, nullptr, 0);
  s.pid = -1;
}

std::optional<int> ServeCluster::terminate(const std::string& id, Millis timeout, Millis* took) {
  Server& s = servers_.at(id);
  if (s.pid <= 0) throw std::logic_error(id + " is not running");
  auto start = Clock::now();
  ::kill(s.pid, SIGTERM);
  for (;;) {
    int status = 0;
    pid_t r = waitpid(s.pid, &status, WNOHANG);
    if (r == s.pid) {
      s.pid = -1;
      if (took) *took = std::chrono::duration_cast<Millis>(Clock::now() - start);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (Clock::now() - start > timeout) {
      kill9(id);
      return std::nullopt;
    }
    std::this_thread::sleep_for(Millis(5));
  }
}

bool ServeCluster::alive(const std::string& id) {
  Server& s = servers_.at(id);
  if (s.pid <= 0) return false;
  if (waitpid(s.pid, nullptr, WNOHANG) == s.pid) {
    s.pid = -1;
    return false;
  }
  return true;
}

std::map<std::string, std::string> ServeCluster::info(const std::string& id) const {
  std::map<std::string, std::string> fields;
  try {
    RespClient c(client_port(id), Millis(2000));
    resp::Reply r = c.call({"INFO"});
    std::istringstream lines(r.str);
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (line.empty() || line[0] == '#' || colon == std::string::npos) continue;
      fields[line.substr(0, colon)] = line.substr(colon + 1);
    }
  } catch (const std::exception&) {
  }
  return fields;
}

std::optional<std::string> ServeCluster::wait_for_leader(Millis timeout,
                                                         const std::string& not_this) {
  auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    std::map<std::string, std::map<std::string, std::string>> infos;
    for (const auto& id : ids_) {
      if (!alive(id)) continue;
      std::map<std::string, std::string> fields = info(id);
      auto member = fields.find("raft_member");
      if (member == fields.end() || member->second != "no") infos[id] = std::move(fields);
    }
    for (const auto& [id, fields] : infos) {
      if (id == not_this || fields.count("role") == 0 || fields.at("role") != "leader") continue;
      size_t agree = 0;
      for (const auto& [other, f] : infos) {
        if (f.count("leader") && f.at("leader") == id && f.at("term") == fields.at("term")) ++agree;
      }
      // Every live server knows it (so none answers TRYAGAIN), and they are a majority.
      if (agree == infos.size() && agree > ids_.size() / 2) return id;
    }
    std::this_thread::sleep_for(Millis(50));
  }
  return std::nullopt;
}

std::string ServeCluster::follower_of(const std::string& leader) {
  for (const auto& id : ids_) {
    if (id != leader && alive(id)) return id;
  }
  throw std::runtime_error("no live follower");
}

std::string ServeCluster::log_tail(const std::string& id, size_t bytes) const {
  std::ifstream in(dir_ + "/" + id + ".log", std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > bytes) text = text.substr(text.size() - bytes);
  return "--- " + id + ".log ---\n" + text;
}

resp::Reply call_until_settled(uint16_t port, const std::vector<std::string>& args,
                               Millis timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    resp::Reply r;
    try {
      RespClient c(port);
      r = c.call(args);
    } catch (const std::exception& e) {
      r = resp::Reply::error(std::string("TRYAGAIN client: ") + e.what());
    }
    bool retry = r.is_error() && r.str.rfind("TRYAGAIN", 0) == 0;
    if (!retry || Clock::now() > deadline) return r;
    std::this_thread::sleep_for(Millis(50));
  }
}

std::string http_get(uint16_t port, const std::string& path) {
  RespClient c(port, Millis(5000));  // used only as a timed socket
  c.send_raw("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  std::string response;
  char buf[65536];
  for (;;) {
    ssize_t n = read(c.fd(), buf, sizeof buf);
    if (n <= 0) break;
    response.append(buf, static_cast<size_t>(n));
  }
  return response;
}

}  // namespace raftkv::test

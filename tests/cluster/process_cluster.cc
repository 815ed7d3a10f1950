#include "process_cluster.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace raftkv::test {

using Clock = std::chrono::steady_clock;

namespace {
// (Built with append rather than operator+ to dodge a GCC 12 -Wrestrict false positive.)
std::string fmt_id(int i) {
  std::string id = "n";
  id.append(std::to_string(i));
  return id;
}
}  // namespace

ProcessCluster::ProcessCluster(std::string binary, int nodes, std::string data_dir,
                               std::vector<std::string> extra_args)
    : binary_(std::move(binary)),
      data_dir_(std::move(data_dir)),
      extra_args_(std::move(extra_args)) {
  signal(SIGPIPE, SIG_IGN);
  for (int i = 0; i < nodes; ++i) ids_.push_back(fmt_id(i));
}

ProcessCluster::~ProcessCluster() {
  for (auto& [id, p] : procs_) {
    if (p.pid > 0) kill(id);
  }
}

void ProcessCluster::start(const std::string& id) {
  int in[2], out[2];
  if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
  std::string log = data_dir_ + "/" + id + ".log";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    int err = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(err, 2);
    for (int fd : {in[0], in[1], out[0], out[1], err}) close(fd);
    std::vector<std::string> args = {binary_, "--data-dir", data_dir_};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    const std::vector<std::string>& mine = node_args_[id];
    args.insert(args.end(), mine.begin(), mine.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary_.c_str(), argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  procs_[id] = Proc{pid, in[1], out[0], {}};
  Json init = {
      {"src", "c0"},
      {"dest", id},
      {"body",
       {{"type", "init"}, {"msg_id", next_msg_id_++}, {"node_id", id}, {"node_ids", ids_}}}};
  write_to(id, init.dump());
}

void ProcessCluster::kill(const std::string& id) {
  Proc& p = procs_[id];
  if (p.pid <= 0) return;
  ::kill(p.pid, SIGKILL);
  waitpid(p.pid, nullptr, 0);
  close(p.in);
  close(p.out);
  p = Proc{};
}

void ProcessCluster::wipe(const std::string& id) {
  std::filesystem::remove_all(std::filesystem::path(data_dir_) / id);
}

bool ProcessCluster::alive(const std::string& id) const {
  auto it = procs_.find(id);
  return it != procs_.end() && it->second.pid > 0;
}

void ProcessCluster::write_to(const std::string& id, const std::string& line) {
  auto it = procs_.find(id);
  if (it == procs_.end() || it->second.pid <= 0) return;  // a dead node loses its messages
  std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(it->second.in, data.data() + off, data.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void ProcessCluster::deliver(const std::string& line) {
  Json m = Json::parse(line);  // throws on non-JSON: the node broke the protocol
  std::string dest = m.at("dest").get<std::string>();
  if (!dest.empty() && dest[0] == 'n') {
    ++routed_;
    write_to(dest, line);
  } else if (m["body"].contains("in_reply_to")) {
    replies_[m["body"]["in_reply_to"].get<int64_t>()] = m["body"];
  }
}

void ProcessCluster::pump(std::chrono::milliseconds d) {
  auto end = Clock::now() + d;
  do {
    std::vector<pollfd> fds;
    std::vector<std::string> owners;
    for (auto& [id, p] : procs_) {
      if (p.pid > 0) {
        fds.push_back({p.out, POLLIN, 0});
        owners.push_back(id);
      }
    }
    int ms = static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count()));
    if (poll(fds.data(), fds.size(), std::min(ms, 5)) <= 0) continue;
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
      Proc& p = procs_[owners[i]];
      char buf[65536];
      ssize_t n = read(p.out, buf, sizeof buf);
      if (n <= 0) continue;
      p.partial.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = p.partial.find('\n')) != std::string::npos) {
        std::string line = p.partial.substr(0, nl);
        p.partial.erase(0, nl + 1);
        deliver(line);
      }
    }
  } while (Clock::now() < end);
}

std::optional<Json> ProcessCluster::request(const std::string& node, Json body,
                                            std::chrono::milliseconds timeout) {
  int64_t id = next_msg_id_++;
  body["msg_id"] = id;
  Json m = {{"src", "c1"}, {"dest", node}, {"body", body}};
  write_to(node, m.dump());
  auto end = Clock::now() + timeout;
  while (Clock::now() < end) {
    pump(std::chrono::milliseconds(2));
    auto it = replies_.find(id);
    if (it != replies_.end()) return it->second;
  }
  return std::nullopt;
}

std::optional<std::string> ProcessCluster::leader() {
  std::optional<std::string> found;
  for (const auto& id : ids_) {
    if (!alive(id)) continue;
    auto r = request(id, {{"type", "status"}}, std::chrono::milliseconds(500));
    if (r && (*r)["role"] == "leader") {
      if (found) return std::nullopt;  // two claim it (one is stale): not settled
      found = id;
    }
  }
  return found;
}

}  // namespace raftkv::test

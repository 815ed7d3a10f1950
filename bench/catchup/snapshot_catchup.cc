// Measures a follower catching up by InstallSnapshot on a large KV store.
//
// Starts n0 and n1 of a 3-node raftkv cluster as real processes on pipes
// (this driver routes their Maelstrom JSON lines, like
// tests/cluster/process_cluster does), loads N keys of V-byte values through
// the leader with many writes in flight, then starts n2 with an empty data
// dir. The leader's log is compacted by then, so n2 catches up by
// InstallSnapshot. Reports n2's peak RSS (VmHWM), the bytes of snapshot
// chunks routed to it and the transfer rate, and the leader's peak RSS.
//
// Usage: snapshot-catchup-driver --bin build/raftkv [--dir DIR] [--keys N]
//          [--value-bytes V] [--window W] [--rss-limit-mib M]
//          [--n2-wrapper "heaptrack -o FILE"] [--skip-load] [-- extra node args]
// --skip-load reuses n0 and n1 from an earlier run in DIR (n2's data and
// log must be gone) to measure only the catch-up again.
// Exit status 0 when n2 installed the snapshot, caught up, and (with
// --rss-limit-mib) stayed under the limit; 1 otherwise.
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// Client requests with msg ids from here on are the load's writes (replies
// go to on_reply); below are call()'s.
constexpr int64_t kFloodIds = 1000000000;

using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

double secs(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// A /proc/<pid>/status field in KiB (VmHWM, VmRSS), or 0.
uint64_t proc_kib(pid_t pid, const char* field) {
  std::ifstream f(fmt::format("/proc/{}/status", pid));
  std::string line;
  size_t n = std::strlen(field);
  while (std::getline(f, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':') {
      return std::stoull(line.substr(n + 1));
    }
  }
  return 0;
}

struct Proc {
  pid_t pid = -1;
  int in = -1, out = -1;
  std::string wbuf;  // bytes routed to its stdin, not yet written
  size_t woff = 0;
  std::string partial;
};

class Cluster {
 public:
  Cluster(std::string bin, std::string dir, std::vector<std::string> node_args)
      : bin_(std::move(bin)), dir_(std::move(dir)), node_args_(std::move(node_args)) {
    signal(SIGPIPE, SIG_IGN);
  }
  ~Cluster() {
    for (auto& [id, p] : procs_) stop(id);
  }

  const std::vector<std::string>& ids() const { return ids_; }
  std::string log_path(const std::string& id) const { return dir_ + "/" + id + ".log"; }
  pid_t pid(const std::string& id) { return procs_[id].pid; }

  void start(const std::string& id, const std::vector<std::string>& wrapper = {}) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe failed");
    std::string log = log_path(id);
    pid_t pid = fork();
    if (pid == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      int err = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      dup2(err, 2);
      for (int fd : {in[0], in[1], out[0], out[1], err}) close(fd);
      std::vector<std::string> args = wrapper;
      args.push_back(bin_);
      args.push_back("--data-dir");
      args.push_back(dir_);
      args.insert(args.end(), node_args_.begin(), node_args_.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    fcntl(in[1], F_SETPIPE_SZ, 1 << 20);
    fcntl(out[0], F_SETPIPE_SZ, 1 << 20);
    procs_[id] = Proc{pid, in[1], out[0], {}, 0, {}};
    Json init = {
        {"src", "c0"},
        {"dest", id},
        {"body", {{"type", "init"}, {"msg_id", next_id_++}, {"node_id", id}, {"node_ids", ids_}}}};
    send_line(id, init.dump());
  }

  // SIGTERM-free stop: close stdin (the node drains and exits), then kill.
  void stop(const std::string& id) {
    Proc& p = procs_[id];
    if (p.pid <= 0) return;
    close(p.in);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(p.pid, nullptr, WNOHANG) == p.pid) {
        p.pid = -1;
        break;
      }
      usleep(20000);
    }
    if (p.pid > 0) {
      kill(p.pid, SIGKILL);
      waitpid(p.pid, nullptr, 0);
    }
    close(p.out);
    p = Proc{};
  }

  void send_line(const std::string& id, std::string_view line) {
    auto it = procs_.find(id);
    if (it == procs_.end() || it->second.pid <= 0) return;  // not started: lost
    it->second.wbuf.append(line);
    it->second.wbuf.push_back('\n');
  }

  int64_t request(const std::string& node, Json body) {
    int64_t id = next_id_++;
    body["msg_id"] = id;
    Json m = {{"src", "c1"}, {"dest", node}, {"body", std::move(body)}};
    send_line(node, m.dump());
    return id;
  }

  // Waits for the reply to a request.
  std::optional<Json> call(const std::string& node, Json body,
                           std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
    int64_t id = request(node, std::move(body));
    auto end = Clock::now() + timeout;
    while (Clock::now() < end) {
      pump(std::chrono::milliseconds(5));
      auto it = replies_.find(id);
      if (it != replies_.end()) {
        Json r = std::move(it->second);
        replies_.erase(it);
        return r;
      }
    }
    return std::nullopt;
  }

  // Replies not claimed by call(): handed to this callback.
  std::function<void(const Json&)> on_reply;
  std::function<void(const std::string& dest, std::string_view line)> on_peer_line;

  void pump(std::chrono::milliseconds d) {
    auto end = Clock::now() + d;
    do {
      std::vector<pollfd> fds;
      std::vector<std::pair<std::string, bool>> owners;  // id, is-out
      for (auto& [id, p] : procs_) {
        if (p.pid <= 0) continue;
        fds.push_back({p.out, POLLIN, 0});
        owners.emplace_back(id, true);
        if (p.woff < p.wbuf.size()) {
          fds.push_back({p.in, POLLOUT, 0});
          owners.emplace_back(id, false);
        }
      }
      int ms = static_cast<int>(std::max<int64_t>(
          0, std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count()));
      if (poll(fds.data(), fds.size(), std::min(ms, 5)) <= 0) continue;
      for (size_t i = 0; i < fds.size(); ++i) {
        Proc& p = procs_[owners[i].first];
        if (p.pid <= 0) continue;
        if (!owners[i].second) {
          if (!(fds[i].revents & POLLOUT)) continue;
          ssize_t n = write(p.in, p.wbuf.data() + p.woff, p.wbuf.size() - p.woff);
          if (n > 0) p.woff += static_cast<size_t>(n);
          if (p.woff == p.wbuf.size() || p.woff > (8 << 20)) {
            p.wbuf.erase(0, p.woff);
            p.woff = 0;
          }
          continue;
        }
        if (!(fds[i].revents & (POLLIN | POLLHUP))) continue;
        char buf[1 << 16];
        for (int k = 0; k < 64; ++k) {
          ssize_t n = read(p.out, buf, sizeof buf);
          if (n <= 0) break;
          p.partial.append(buf, static_cast<size_t>(n));
        }
        size_t start = 0, nl;
        while ((nl = p.partial.find('\n', start)) != std::string::npos) {
          deliver(std::string_view(p.partial).substr(start, nl - start));
          start = nl + 1;
        }
        p.partial.erase(0, start);
      }
    } while (Clock::now() < end);
  }

 private:
  // Lines are {"src":"..","dest":"..","body":..} (the node's key order), so
  // the destination is found without parsing a multi-MiB chunk.
  void deliver(std::string_view line) {
    static constexpr std::string_view kDest = "\"dest\":\"";
    size_t d = line.find(kDest);
    if (d == std::string_view::npos) {
      // Not a message (a wrapper such as heaptrack talks on stdout too).
      std::fprintf(stderr, "[catchup] not a message: %.*s\n", static_cast<int>(line.size()),
                   line.data());
      return;
    }
    d += kDest.size();
    std::string dest(line.substr(d, line.find('"', d) - d));
    if (!dest.empty() && dest[0] == 'n') {
      if (on_peer_line) on_peer_line(dest, line);
      send_line(dest, line);
      return;
    }
    Json m = Json::parse(line);
    const Json& body = m["body"];
    if (!body.contains("in_reply_to")) return;
    int64_t irt = body["in_reply_to"].get<int64_t>();
    if (irt >= kFloodIds) {
      if (on_reply) on_reply(body);
    } else {
      replies_[irt] = body;  // for call()
    }
  }

 private:
  std::string bin_, dir_;
  std::vector<std::string> node_args_;
  std::vector<std::string> ids_{"n0", "n1", "n2"};
  std::map<std::string, Proc> procs_;
  std::map<int64_t, Json> replies_;
  int64_t next_id_ = 1;
};

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

bool log_contains(const std::string& path, const std::string& what) {
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.find(what) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

int run(const std::string& bin, const std::string& dir, uint64_t keys, uint64_t value_bytes,
        uint64_t window, uint64_t rss_limit_mib, bool skip_load, const std::string& wrapper,
        const std::vector<std::string>& node_args);

int main(int argc, char** argv) {
  std::string bin, dir, wrapper;
  uint64_t keys = 100000, value_bytes = 1024, window = 2000, rss_limit_mib = 0;
  bool skip_load = false;
  std::vector<std::string> node_args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto need = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--bin") {
      bin = need();
    } else if (a == "--dir") {
      dir = need();
    } else if (a == "--keys") {
      keys = std::stoull(need());
    } else if (a == "--value-bytes") {
      value_bytes = std::stoull(need());
    } else if (a == "--window") {
      window = std::stoull(need());
    } else if (a == "--rss-limit-mib") {
      rss_limit_mib = std::stoull(need());
    } else if (a == "--skip-load") {
      skip_load = true;
    } else if (a == "--n2-wrapper") {
      wrapper = need();
    } else if (a == "--") {
      node_args.assign(argv + i + 1, argv + argc);
      break;
    } else {
      std::fprintf(stderr, "unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (bin.empty()) {
    std::fprintf(stderr, "usage: %s --bin RAFTKV [--dir DIR] [options] [-- node args]\n", argv[0]);
    return 2;
  }
  // Without --dir: a fresh temporary dir, removed at exit (the ctest).
  std::string own_dir;
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "raftkv-catchup-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    dir = own_dir = tmpl;
  }
  int rc = run(bin, dir, keys, value_bytes, window, rss_limit_mib, skip_load, wrapper, node_args);
  if (!own_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(own_dir, ec);
  }
  return rc;
}

int run(const std::string& bin, const std::string& dir, uint64_t keys, uint64_t value_bytes,
        uint64_t window, uint64_t rss_limit_mib, bool skip_load, const std::string& wrapper,
        const std::vector<std::string>& node_args) {
  auto say = [](const std::string& s) { std::fprintf(stderr, "[catchup] %s\n", s.c_str()); };

  std::filesystem::create_directories(dir);  // the node logs go there first
  Cluster c(bin, dir, node_args);
  c.start("n0");
  c.start("n1");
  // A leader among n0 and n1 (n2 has not started: 2 of 3 is a majority).
  auto find_leader = [&]() -> std::string {
    for (auto end = Clock::now() + std::chrono::seconds(30); Clock::now() < end;) {
      for (const std::string id : {"n0", "n1"}) {
        auto r = c.call(id, {{"type", "status"}}, std::chrono::milliseconds(500));
        if (r && (*r)["role"] == "leader") return id;
      }
      c.pump(std::chrono::milliseconds(50));
    }
    return "";
  };
  std::string leader = find_leader();
  if (leader.empty()) {
    say("no leader elected");
    return 1;
  }
  say("leader " + leader);

  // ---- load ----------------------------------------------------------------
  // Values are slices of a random base64-alphabet buffer, so they are valid
  // JSON strings without escapes and do not compress away.
  std::string pool(1 << 20, '\0');
  {
    std::mt19937_64 rng(42);
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (char& ch : pool) ch = alphabet[rng() % 64];
  }
  auto value_of = [&](uint64_t k) {
    return std::string_view(pool).substr((k * 1031) % (pool.size() - value_bytes), value_bytes);
  };
  std::map<int64_t, uint64_t> inflight;  // msg id -> key number
  std::vector<uint64_t> retry;
  uint64_t next_key = 0, acked = 0, errors = 0;
  c.on_reply = [&](const Json& body) {
    auto it = inflight.find(body["in_reply_to"].get<int64_t>());
    if (it == inflight.end()) return;
    if (body["type"] == "write_ok") {
      ++acked;
    } else {
      // 11 (not applied) or 13 (unknown) around a leader change: writing
      // the key again is harmless, it only needs to be there at the end.
      if (errors++ < 3) say("write failed: " + body.dump());
      retry.push_back(it->second);
    }
    inflight.erase(it);
  };
  auto t_load = Clock::now();
  auto next_report = t_load + std::chrono::seconds(5);
  int64_t flood_id = kFloodIds;
  // Built by hand rather than as a Json: this is the hot path.
  auto send_write = [&](uint64_t k) {
    int64_t id = flood_id++;
    std::string line = fmt::format(
        R"({{"src":"c1","dest":"{}","body":{{"type":"write","msg_id":{},"key":"k{:08}","value":"{}"}}}})",
        leader, id, k, value_of(k));
    c.send_line(leader, line);
    inflight[id] = k;
  };
  if (skip_load) {
    // n0 and n1 restarted on the data of an earlier run (--keep-data).
    say("skipping the load: n0 and n1 keep their data");
    acked = keys;
  }
  while (acked < keys) {
    while (inflight.size() < window && (next_key < keys || !retry.empty())) {
      uint64_t k;
      if (!retry.empty()) {
        k = retry.back();
        retry.pop_back();
      } else {
        k = next_key++;
      }
      send_write(k);
    }
    c.pump(std::chrono::milliseconds(1));
    if (Clock::now() > next_report) {
      double s = secs(Clock::now() - t_load);
      say(fmt::format("loaded {}/{} keys in {:.0f} s ({:.0f} writes/s, {:.1f} MiB/s), {} errors",
                      acked, keys, s, acked / s, acked * value_bytes / s / 1048576, errors));
      next_report += std::chrono::seconds(5);
      // On a loaded machine leadership can move; follow it rather than
      // have every write forwarded.
      std::string now_leader = find_leader();
      if (!now_leader.empty() && now_leader != leader) {
        say("leader is now " + now_leader);
        leader = now_leader;
      }
    }
  }
  double load_s = secs(Clock::now() - t_load);
  say(fmt::format("loaded {} keys x {} B in {:.1f} s ({:.0f} writes/s), {} errors", keys,
                  value_bytes, load_s, keys / load_s, errors));
  c.on_reply = nullptr;

  auto status = [&](const std::string& id) -> std::optional<Json> {
    return c.call(id, {{"type", "status"}}, std::chrono::seconds(5));
  };
  auto ls = status(leader);
  if (!ls) {
    say("leader does not answer status");
    return 1;
  }
  uint64_t target = (*ls)["commit"].get<uint64_t>();
  say(fmt::format("leader status: {}", ls->dump()));
  uint64_t leader_hwm = proc_kib(c.pid(leader), "VmHWM");

  // ---- catch-up ------------------------------------------------------------
  uint64_t chunk_lines = 0, chunk_bytes = 0, to_n2_bytes = 0;
  Clock::time_point t_first_chunk{}, t_last_chunk{};
  c.on_peer_line = [&](const std::string& dest, std::string_view line) {
    if (dest != "n2") return;
    to_n2_bytes += line.size() + 1;
    if (line.substr(0, 200).find(R"("m":"snap_chunk")") != std::string_view::npos) {
      auto now = Clock::now();
      if (chunk_lines == 0) t_first_chunk = now;
      t_last_chunk = now;
      ++chunk_lines;
      chunk_bytes += line.size() + 1;
    }
  };
  auto t_start = Clock::now();
  c.start("n2", split_words(wrapper));
  pid_t n2 = c.pid("n2");
  uint64_t max_rss = 0;
  std::optional<Clock::time_point> t_installed, t_caught_up;
  auto next_poll = Clock::now();
  auto deadline = Clock::now() + std::chrono::minutes(30);
  while (!t_caught_up) {
    c.pump(std::chrono::milliseconds(20));
    max_rss = std::max(max_rss, proc_kib(n2, "VmRSS"));
    if (Clock::now() > deadline) {
      say("n2 did not catch up in 30 minutes");
      return 1;
    }
    if (Clock::now() < next_poll) continue;
    next_poll = Clock::now() + std::chrono::milliseconds(500);
    if (!t_installed && log_contains(c.log_path("n2"), "installed snapshot")) {
      t_installed = Clock::now();
      say(fmt::format("n2 installed the snapshot {:.1f} s after it started",
                      secs(*t_installed - t_start)));
    }
    if (t_installed) {
      auto s = c.call("n2", {{"type", "status"}}, std::chrono::seconds(2));
      if (s && (*s)["applied"].get<uint64_t>() >= target) t_caught_up = Clock::now();
    }
  }
  uint64_t n2_hwm = proc_kib(n2, "VmHWM");
  leader_hwm = std::max(leader_hwm, proc_kib(c.pid(leader), "VmHWM"));
  double xfer_s = secs(t_last_chunk - t_first_chunk);
  double install_s = secs(*t_installed - t_start);
  uint64_t payload = keys * (value_bytes + 2 + 10);  // "k%08d" and the quoted value
  std::printf("keys=%llu value_bytes=%llu payload_mib=%.1f\n", (unsigned long long)keys,
              (unsigned long long)value_bytes, payload / 1048576.0);
  std::printf("load_s=%.1f load_writes_per_s=%.0f\n", load_s, keys / load_s);
  std::printf("snapshot_chunks=%llu chunk_wire_mib=%.1f to_n2_wire_mib=%.1f\n",
              (unsigned long long)chunk_lines, chunk_bytes / 1048576.0, to_n2_bytes / 1048576.0);
  std::printf("first_to_last_chunk_s=%.2f wire_rate_mib_s=%.1f\n", xfer_s,
              xfer_s > 0 ? chunk_bytes / 1048576.0 / xfer_s : 0.0);
  std::printf("start_to_installed_s=%.2f payload_rate_mib_s=%.1f caught_up_s=%.2f\n", install_s,
              payload / 1048576.0 / install_s, secs(*t_caught_up - t_start));
  std::printf("n2_peak_rss_mib=%.1f (VmHWM) n2_max_sampled_rss_mib=%.1f leader_peak_rss_mib=%.1f\n",
              n2_hwm / 1024.0, max_rss / 1024.0, leader_hwm / 1024.0);
  std::fflush(stdout);
  if (rss_limit_mib && n2_hwm > rss_limit_mib * 1024) {
    say(fmt::format("n2 peak RSS {:.1f} MiB is over the {} MiB limit", n2_hwm / 1024.0,
                    rss_limit_mib));
    return 1;
  }
  return 0;
}

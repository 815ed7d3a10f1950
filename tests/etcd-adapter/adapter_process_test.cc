// The etcd-adapter binary end to end: Maelstrom lines in, replies out.
// --noop needs nothing else; the etcd tests start a one-member etcd on free
// ports in a temp dir and are skipped when no etcd binary is on PATH.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// A child process with piped stdin/stdout and stderr sent to a file.
class Proc {
 public:
  Proc(const std::vector<std::string>& argv, const std::string& stderr_path) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (err >= 0) dup2(err, 2);
      for (int fd = 3; fd < 256; ++fd) close(fd);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    in_ = in[1];
    out_ = out[0];
  }
  ~Proc() {
    close_stdin();
    if (out_ >= 0) close(out_);
    if (pid_ > 0 && !wait_exit(5000)) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void send(const std::string& line) {
    std::string s = line + "\n";
    ASSERT_EQ(write(in_, s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }
  void close_stdin() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }
  // The next line of stdout, or nullopt on EOF or after timeout_ms.
  std::optional<std::string> recv(int timeout_ms = 10000) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (size_t nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{out_, POLLIN, 0};
      if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return {};
      char chunk[4096];
      ssize_t n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return {};
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }
  // Signals the child and reaps it; true if it exited within timeout_ms.
  // Never kill() a pid <= 0: -1 would signal every process we may signal.
  bool stop(int sig, int timeout_ms) {
    if (pid_ <= 0) return true;
    kill(pid_, sig);
    return wait_exit(timeout_ms);
  }
  int exit_status() const { return status_; }

 private:
  bool wait_exit(int timeout_ms) {
    if (pid_ <= 0) return true;
    for (int waited = 0; waited <= timeout_ms; waited += 10) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  int status_ = -1;
  std::string buf_;
};

std::string temp_dir() {
  std::string t = (fs::temp_directory_path() / "etcd-adapter-test.XXXXXX").string();
  if (!mkdtemp(t.data())) throw std::runtime_error("mkdtemp");
  return t;
}

std::string line(const std::string& src, const Json& body) {
  return Json{{"src", src}, {"dest", "n1"}, {"body", body}}.dump();
}

TEST(Noop, AnswersEveryRequestInOrder) {
  std::string dir = temp_dir();
  std::vector<std::string> replies;
  {
    Proc p({ETCD_ADAPTER_BIN, "--noop"}, dir + "/stderr");
    p.send(line("c1", {{"type", "read"}, {"msg_id", 1}, {"key", 1}}));
    p.send(line("c0",
                {{"type", "init"}, {"msg_id", 1}, {"node_id", "n1"}, {"node_ids", {"n0", "n1"}}}));
    p.send(line("c1", {{"type", "read"}, {"msg_id", 2}, {"key", 1}}));
    p.send(line("c1", {{"type", "write"}, {"msg_id", 3}, {"key", 1}, {"value", 5}}));
    p.send(line("c2", {{"type", "cas"}, {"msg_id", 4}, {"key", "1"}, {"from", 5}, {"to", 6}}));
    p.send(line("c2", {{"type", "cas"}, {"msg_id", 5}, {"key", 1}, {"from", 5}}));
    p.send(line("c2", {{"type", "cas"},
                       {"msg_id", 6},
                       {"key", 1},
                       {"from", 5},
                       {"to", 6},
                       {"create_if_not_exists", 1}}));
    p.send(line("c1", {{"type", "frobnicate"}, {"msg_id", 7}}));
    p.send("not json");
    p.send(line("c1", {{"type", "write"}, {"key", 1}, {"value", 5}}));  // no msg_id: no reply
    p.send(line("c1", {{"type", "read"}, {"msg_id", 8}, {"key", 1}}));
    p.close_stdin();
    while (auto l = p.recv()) replies.push_back(*l);
    EXPECT_TRUE(p.stop(0, 5000));
    EXPECT_EQ(p.exit_status(), 0);
  }
  const std::vector<std::string> want = {
      R"({"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":1,"msg_id":0,"code":12,"text":"node not initialised: send init before read"}})",
      R"({"src":"n1","dest":"c0","body":{"type":"init_ok","in_reply_to":1,"msg_id":1}})",
      R"({"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":2,"msg_id":2,"value":0}})",
      R"({"src":"n1","dest":"c1","body":{"type":"write_ok","in_reply_to":3,"msg_id":3}})",
      R"({"src":"n1","dest":"c2","body":{"type":"cas_ok","in_reply_to":4,"msg_id":4}})",
      R"({"src":"n1","dest":"c2","body":{"type":"error","in_reply_to":5,"msg_id":5,"code":12,"text":"request needs a \"to\""}})",
      R"({"src":"n1","dest":"c2","body":{"type":"error","in_reply_to":6,"msg_id":6,"code":12,"text":"create_if_not_exists must be a boolean"}})",
      R"({"src":"n1","dest":"c1","body":{"type":"error","in_reply_to":7,"msg_id":7,"code":10,"text":"unsupported message type: frobnicate"}})",
      R"({"src":"n1","dest":"c1","body":{"type":"read_ok","in_reply_to":8,"msg_id":8,"value":0}})",
  };
  EXPECT_EQ(replies, want);
  fs::remove_all(dir);
}

bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string rest = path ? path : "";
  for (size_t p = 0; p <= rest.size();) {
    size_t c = std::min(rest.find(':', p), rest.size());
    if (access((rest.substr(p, c - p) + "/" + name).c_str(), X_OK) == 0) return true;
    p = c + 1;
  }
  return false;
}

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  close(s);
  return ntohs(a.sin_port);
}

class WithEtcd : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!on_path("etcd")) GTEST_SKIP() << "no etcd on PATH (apt-get install etcd-server)";
    dir_ = temp_dir();
    const std::string client = "http://127.0.0.1:" + std::to_string(free_port());
    const std::string peer = "http://127.0.0.1:" + std::to_string(free_port());
    etcd_ = std::make_unique<Proc>(
        std::vector<std::string>{"etcd", "--name", "t", "--data-dir", dir_ + "/data",
                                 "--listen-client-urls", client, "--advertise-client-urls", client,
                                 "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
                                 "--initial-cluster", "t=" + peer, "--log-level", "warn",
                                 "--logger", "zap"},
        dir_ + "/etcd.log");
    adapter_ = std::make_unique<Proc>(
        std::vector<std::string>{ETCD_ADAPTER_BIN, "--endpoints", client, "--timeout-ms", "2000"},
        dir_ + "/adapter.log");
    Json ok = rpc({{"type", "init"}, {"node_id", "n1"}, {"node_ids", {"n1"}}});
    ASSERT_EQ(ok["type"], "init_ok");
    // etcd is ready once a read gets a real answer rather than error 11.
    for (int i = 0; i < 200; ++i) {
      Json r = rpc({{"type", "read"}, {"key", "ready?"}});
      if (r.value("code", 0) == 20) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "etcd did not become ready; see " << dir_ << "/etcd.log";
  }
  void TearDown() override {
    adapter_.reset();
    if (etcd_) etcd_->stop(SIGTERM, 10000);
    etcd_.reset();
    if (!dir_.empty() && !HasFailure()) fs::remove_all(dir_);
  }
  // Sends one request and returns the body of its reply.
  Json rpc(Json body) {
    body["msg_id"] = ++msg_id_;
    adapter_->send(line("c1", body));
    auto l = adapter_->recv();
    if (!l) return Json{{"type", "no reply"}};
    Json reply = Json::parse(*l);
    EXPECT_EQ(reply["src"], "n1");
    EXPECT_EQ(reply["dest"], "c1");
    EXPECT_EQ(reply["body"]["in_reply_to"], msg_id_);
    return reply["body"];
  }
  Json read(const Json& key) { return rpc({{"type", "read"}, {"key", key}}); }
  Json write(const Json& key, const Json& v) {
    return rpc({{"type", "write"}, {"key", key}, {"value", v}});
  }
  Json cas(const Json& key, const Json& from, const Json& to, bool create = false) {
    Json b = {{"type", "cas"}, {"key", key}, {"from", from}, {"to", to}};
    if (create) b["create_if_not_exists"] = true;
    return rpc(b);
  }

  std::string dir_;
  std::unique_ptr<Proc> etcd_, adapter_;
  int msg_id_ = 0;
};

TEST_F(WithEtcd, ReadWriteCas) {
  EXPECT_EQ(read("k")["code"], 20);
  EXPECT_EQ(cas("k", 1, 2)["code"], 20);
  EXPECT_EQ(write("k", 1)["type"], "write_ok");
  Json r = read("k");
  EXPECT_EQ(r["type"], "read_ok");
  EXPECT_EQ(r["value"], 1);
  EXPECT_EQ(cas("k", 1, 2)["type"], "cas_ok");
  EXPECT_EQ(cas("k", 1, 3)["code"], 22);
  EXPECT_EQ(read("k")["value"], 2);
  // Objects compare by content, not member order.
  EXPECT_EQ(write("o", {{"b", 1}, {"a", 2}})["type"], "write_ok");
  EXPECT_EQ(cas("o", {{"a", 2}, {"b", 1}}, "x")["type"], "cas_ok");
  EXPECT_EQ(read("o")["value"], "x");
}

TEST_F(WithEtcd, KeysAreJsonText) {
  EXPECT_EQ(write(3, "int")["type"], "write_ok");
  EXPECT_EQ(read("3")["code"], 20);
  EXPECT_EQ(read(3)["value"], "int");
}

TEST_F(WithEtcd, CasCreateIfNotExists) {
  EXPECT_EQ(cas("c", 0, 5, true)["type"], "cas_ok");  // absent: created
  EXPECT_EQ(read("c")["value"], 5);
  EXPECT_EQ(cas("c", 0, 6, true)["code"], 22);        // present and different
  EXPECT_EQ(cas("c", 5, 6, true)["type"], "cas_ok");  // present and equal
  EXPECT_EQ(read("c")["value"], 6);
}

TEST_F(WithEtcd, ManyRequestsInFlight) {
  const int n = 64;
  for (int i = 0; i < n; ++i) {
    adapter_->send(line("c" + std::to_string(i),
                        {{"type", "write"}, {"msg_id", 1000 + i}, {"key", i}, {"value", i}}));
  }
  std::vector<bool> seen(n);
  for (int i = 0; i < n; ++i) {
    auto l = adapter_->recv();
    ASSERT_TRUE(l);
    Json r = Json::parse(*l);
    EXPECT_EQ(r["body"]["type"], "write_ok") << *l;
    int k = r["body"]["in_reply_to"].get<int>() - 1000;
    ASSERT_TRUE(k >= 0 && k < n && !seen[k]);
    EXPECT_EQ(r["dest"], "c" + std::to_string(k));
    seen[k] = true;
  }
  for (int i = 0; i < n; i += 9) EXPECT_EQ(read(i)["value"], i);
}

TEST_F(WithEtcd, EtcdGoneGivesTemporaryOrIndefiniteErrors) {
  EXPECT_EQ(write("k", 1)["type"], "write_ok");
  ASSERT_TRUE(etcd_->stop(SIGTERM, 10000));
  EXPECT_EQ(read("k")["code"], 11);
  // Refused connections mean the write never left (11); any other failure
  // may have reached etcd, so must be indefinite (13).
  Json w = write("k", 2);
  EXPECT_EQ(w["type"], "error");
  EXPECT_TRUE(w["code"] == 11 || w["code"] == 13) << w;
}

}  // namespace

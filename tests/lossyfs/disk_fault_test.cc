// raftkv on a lossyfs disk that fails: EIO on fsync, ENOSPC on write, EIO on
// read, a flipped bit in a read. The node never acknowledges a write that did
// not become durable, never answers with wrong data, and fail-stops with a
// one-line reason and exit status 1; after a failed fsync it does not retry
// and carry on. In a 3-node cluster the healthy majority keeps serving, and
// the failed node, restarted on a healthy disk, rejoins with every
// acknowledged write.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mount.h"
#include "process_cluster.h"

namespace {

using lossyfs_test::Mount;
using Json = nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

// One raftkv process (node n1 of a 1-node cluster) on pipes.
class Node {
 public:
  explicit Node(const fs::path& data_dir) : log_((data_dir.parent_path() / "n1.stderr").string()) {
    int in[2], out[2];
    if (::pipe(in) != 0 || ::pipe(out) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      int err = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(err, 2);
      for (int fd : {in[0], in[1], out[0], out[1], err}) ::close(fd);
      ::execl(RAFTKV_BINARY, RAFTKV_BINARY, "--data-dir", data_dir.c_str(), nullptr);
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    in_ = in[1];
    out_ = out[0];
    ::signal(SIGPIPE, SIG_IGN);
  }
  ~Node() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(in_);
    ::close(out_);
  }

  // Sends a request; returns its reply body, or nullopt after `timeout`.
  std::optional<Json> request(Json body, std::chrono::milliseconds timeout = 3000ms) {
    int64_t id = next_id_++;
    body["msg_id"] = id;
    Json m = {{"src", "c1"}, {"dest", "n1"}, {"body", body}};
    std::string line = m.dump() + "\n";
    if (::write(in_, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      return std::nullopt;
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      for (auto& r : replies_)
        if (r["in_reply_to"] == id) return r;
      pollfd p{out_, POLLIN, 0};
      if (::poll(&p, 1, 10) <= 0) continue;
      char buf[4096];
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n == 0) return std::nullopt;  // the node exited
      if (n < 0) {
        std::this_thread::sleep_for(10ms);
        continue;
      }
      partial_.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = partial_.find('\n')) != std::string::npos) {
        replies_.push_back(Json::parse(partial_.substr(0, nl))["body"]);
        partial_.erase(0, nl + 1);
      }
    }
    return std::nullopt;
  }
  bool init() {
    auto r = request({{"type", "init"}, {"node_id", "n1"}, {"node_ids", {"n1"}}}, 10s);
    return r && (*r)["type"] == "init_ok";
  }
  // Exit status once the process exits within `timeout`, or -1.
  int wait_exit(std::chrono::milliseconds timeout = 10s) {
    auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  // Closes stdin: a clean shutdown.
  int stop() {
    ::close(in_);
    in_ = -1;
    return wait_exit();
  }
  void kill() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // The node's stderr lines that report a fatal condition.
  std::vector<std::string> fatal_lines() const {
    std::vector<std::string> out;
    std::ifstream in(log_);
    for (std::string l; std::getline(in, l);)
      if (l.find("fatal") != std::string::npos) out.push_back(l);
    return out;
  }
  std::string stderr_text() const {
    std::stringstream s;
    s << std::ifstream(log_).rdbuf();
    return s.str();
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  int64_t next_id_ = 1;
  std::string partial_;
  std::vector<Json> replies_;
};

Json write_req(int k, int v) {
  return {{"type", "write"}, {"key", k}, {"value", v}};
}
Json read_req(int k) {
  return {{"type", "read"}, {"key", k}};
}

class DiskFault : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::string why = lossyfs_test::fuse_unavailable(); !why.empty())
      GTEST_SKIP() << "FUSE unavailable: " << why;
    m_ = std::make_unique<Mount>();
    ASSERT_TRUE(m_->ok()) << m_->error();
  }
  void TearDown() override { m_.reset(); }

  // A node with keys 1..3 written and acknowledged.
  std::unique_ptr<Node> node_with_data() {
    auto n = std::make_unique<Node>(m_->path());
    EXPECT_TRUE(n->init()) << n->stderr_text();
    for (int k = 1; k <= 3; ++k) {
      auto r = n->request(write_req(k, k * 10));
      EXPECT_TRUE(r && (*r)["type"] == "write_ok") << n->stderr_text();
    }
    return n;
  }

  // The node fails the next write: no acknowledgement, exit 1, one reason.
  void expect_write_fail_stops(Node& n, const std::string& reason_part) {
    auto r = n.request(write_req(4, 40), 3000ms);
    EXPECT_FALSE(r && (*r)["type"] == "write_ok") << "acknowledged a write that is not durable";
    EXPECT_EQ(n.wait_exit(), 1) << n.stderr_text();
    auto fatal = n.fatal_lines();
    ASSERT_EQ(fatal.size(), 1u) << n.stderr_text();
    EXPECT_NE(fatal[0].find(reason_part), std::string::npos) << fatal[0];
    std::cerr << "  reason: " << fatal[0] << "\n";
  }

  // After a power cut and on a healthy disk, every acknowledged write is there.
  void expect_restart_has_acked_data() {
    ASSERT_EQ(m_->control("clear"), "ok");
    ASSERT_EQ(m_->control("cut tear").rfind("ok", 0), 0u);
    Node n(m_->path());
    ASSERT_TRUE(n.init()) << n.stderr_text();
    for (int k = 1; k <= 3; ++k) {
      auto r = n.request(read_req(k));
      ASSERT_TRUE(r) << n.stderr_text();
      EXPECT_EQ((*r)["value"], k * 10) << "key " << k;
    }
    EXPECT_EQ(n.stop(), 0);
  }

  std::unique_ptr<Mount> m_;
};

TEST_F(DiskFault, FsyncEioFailStopsWithoutAckAndDoesNotRetry) {
  auto n = node_with_data();
  // Every fsync of the Raft log's files fails once; lossyfs then drops the
  // unsynced data and lets a retried fsync "succeed" (fsyncgate), so a node
  // that retried and carried on would acknowledge lost data.
  ASSERT_EQ(m_->control("fault fsync-eio n1/log/* 1"), "ok");
  expect_write_fail_stops(*n, "log store");
  EXPECT_NE(m_->control("stats").find("faults_fired=1"), std::string::npos);
  expect_restart_has_acked_data();
}

TEST_F(DiskFault, EnospcOnWalWriteFailStopsWithoutAck) {
  auto n = node_with_data();
  ASSERT_EQ(m_->control("fault write-enospc n1/log/*.log"), "ok");  // the WAL files
  expect_write_fail_stops(*n, "No space left on device");
  expect_restart_has_acked_data();
}

// ENOSPC on every file of the log store, RocksDB's own info LOG included.
// Debian's RocksDB 7.8 is built with assertions, and its info logger asserts
// on the write after a failed one: the node then dies of SIGABRT (RocksDB's
// assertion line is the reason) instead of exiting 1. Either way it stops
// and acknowledges nothing that is not durable.
TEST_F(DiskFault, EnospcEverywhereStopsWithoutAck) {
  auto n = node_with_data();
  ASSERT_EQ(m_->control("fault write-enospc n1/log/*"), "ok");
  auto r = n->request(write_req(4, 40), 3000ms);
  EXPECT_FALSE(r && (*r)["type"] == "write_ok") << "acknowledged a write that is not durable";
  int rc = n->wait_exit();
  EXPECT_TRUE(rc == 1 || rc == 128 + SIGABRT) << "exit " << rc << ": " << n->stderr_text();
  std::cerr << "  exit " << rc << "\n";
  expect_restart_has_acked_data();
}

TEST_F(DiskFault, ReadEioAtStartFailStops) {
  auto n = node_with_data();
  ASSERT_EQ(n->stop(), 0);
  ASSERT_EQ(m_->control("fault read-eio n1/log/*"), "ok");
  Node again(m_->path());
  again.request({{"type", "init"}, {"node_id", "n1"}, {"node_ids", {"n1"}}}, 3000ms);
  auto r = again.request(read_req(1), 1000ms);
  EXPECT_FALSE(r && (*r)["type"] == "read_ok") << "answered while its disk cannot be read";
  EXPECT_EQ(again.wait_exit(), 1) << again.stderr_text();
  EXPECT_EQ(again.fatal_lines().size(), 1u) << again.stderr_text();
  for (auto& l : again.fatal_lines()) std::cerr << "  reason: " << l << "\n";
  expect_restart_has_acked_data();
}

// A bit flipped in every read of the Raft log's WAL (what a restart replays):
// whichever record the flip lands in, the node must not serve different data.
TEST_F(DiskFault, BitflipInWalReadFailStopsOrServesTheTruth) {
  for (int round = 0; round < 3; ++round) {
    auto n = node_with_data();
    ASSERT_EQ(n->stop(), 0);
    ASSERT_EQ(m_->control("fault bitflip n1/log/*.log"), "ok");
    Node again(m_->path());
    bool up = again.init();
    if (up) {
      for (int k = 1; k <= 3; ++k) {
        auto r = again.request(read_req(k), 2000ms);
        if (r && (*r)["type"] == "read_ok") {
          EXPECT_EQ((*r)["value"], k * 10) << "wrong data served for key " << k;
        }
      }
      again.stop();
    } else {
      EXPECT_EQ(again.wait_exit(), 1) << again.stderr_text();
      EXPECT_EQ(again.fatal_lines().size(), 1u) << again.stderr_text();
      for (auto& l : again.fatal_lines()) std::cerr << "  reason: " << l << "\n";
    }
    ASSERT_EQ(m_->control("clear"), "ok");
    if (HasFailure()) return;
    std::cerr << "round " << round << ": " << (up ? "served (flip harmless)" : "fail-stopped")
              << "\n";
    // Fresh data dir for the next round.
    fs::remove_all(m_->path() / "n1");
  }
}

// A flipped bit in a read of a KV value on disk (an SST of the KV store) is
// caught by RocksDB's block checksum or raftkv's value CRC: fail-stop.
TEST_F(DiskFault, BitflipInKvSstReadFailStops) {
  auto n = node_with_data();
  ASSERT_EQ(n->stop(), 0);
  // Reopen, so the KV store's memtable is flushed into an SST by a clean
  // restart's WAL replay... then flip every read of those SSTs.
  {
    Node flush(m_->path());
    ASSERT_TRUE(flush.init());
    ASSERT_EQ(flush.stop(), 0);
  }
  bool have_sst = false;
  for (auto& e : fs::directory_iterator(m_->path() / "n1" / "kv"))
    have_sst |= e.path().extension() == ".sst";
  if (!have_sst) GTEST_SKIP() << "the KV store kept its data in the WAL (no SST to damage)";
  ASSERT_EQ(m_->control("fault bitflip n1/kv/*.sst"), "ok");
  Node again(m_->path());
  bool up = again.init();
  for (int k = 1; up && k <= 3; ++k) {
    auto r = again.request(read_req(k), 2000ms);
    if (r && (*r)["type"] == "read_ok") {
      EXPECT_EQ((*r)["value"], k * 10) << "key " << k;
    }
  }
  EXPECT_EQ(again.wait_exit(5s), 1) << again.stderr_text();
  EXPECT_EQ(again.fatal_lines().size(), 1u) << again.stderr_text();
  for (auto& l : again.fatal_lines()) std::cerr << "  reason: " << l << "\n";
}

// Power cuts with a torn tail: whatever prefix of the last unsynced write
// survives, the node restarts by itself (a torn tail is a crash artifact,
// not corruption) and serves every write it acknowledged.
TEST_F(DiskFault, TornTailAfterPowerCutRecoversByItself) {
  std::map<int, int> acked;
  int next_key = 1;
  for (int seed = 1; seed <= 12; ++seed) {
    Node n(m_->path());
    ASSERT_TRUE(n.init()) << "seed " << seed << ": " << n.stderr_text();
    for (auto [k, v] : acked) {
      auto r = n.request(read_req(k));
      ASSERT_TRUE(r && (*r)["type"] == "read_ok") << "seed " << seed << " key " << k;
      EXPECT_EQ((*r)["value"], v) << "acknowledged write lost: seed " << seed << " key " << k;
    }
    for (int i = 0; i < 5; ++i, ++next_key) {
      auto r = n.request(write_req(next_key, seed));
      if (r && (*r)["type"] == "write_ok") acked[next_key] = seed;
    }
    // Power goes while writes are in flight: one more is sent, not awaited.
    n.request(write_req(next_key++, seed), 1ms);
    n.kill();
    std::string cut = m_->control("cut tear seed=" + std::to_string(seed));
    ASSERT_EQ(cut.rfind("ok cut", 0), 0u) << cut;
    std::cerr << "  seed " << seed << ": " << cut << "\n";
  }
  EXPECT_GE(acked.size(), 50u);
}

// Three nodes on one lossyfs mount (each in its own directory): the leader's
// disk starts failing fsyncs. It fail-stops; the healthy majority elects a
// new leader and keeps acknowledging writes; the failed node, restarted on
// a healthy disk, rejoins and serves every acknowledged write.
TEST_F(DiskFault, ClusterServesWithAHealthyMajorityAndTheNodeRejoins) {
  raftkv::test::ProcessCluster c(RAFTKV_BINARY, 3, m_->path().string());
  for (const auto& id : c.ids()) c.start(id);
  auto wait_leader = [&](std::chrono::seconds limit) -> std::string {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      if (auto l = c.leader()) return *l;
      c.pump(50ms);
    }
    return {};
  };
  auto write = [&](const std::string& via, int k, int v) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto r = c.request(via, {{"type", "write"}, {"key", k}, {"value", v}});
      if (r && (*r)["type"] == "write_ok") return true;
      c.pump(50ms);
    }
    return false;
  };
  std::string leader = wait_leader(10s);
  ASSERT_FALSE(leader.empty());
  std::map<int, int> acked;
  for (int k = 0; k < 10; ++k) {
    ASSERT_TRUE(write(leader, k, k + 100));
    acked[k] = k + 100;
  }
  ASSERT_EQ(m_->control("fault fsync-eio " + leader + "/log/*"), "ok");
  // Writes sent to the failing leader are never acknowledged by it unless
  // durable on a majority; the others elect a new leader and go on.
  auto r = c.request(leader, {{"type", "write"}, {"key", 10}, {"value", 110}}, 2000ms);
  if (r && (*r)["type"] == "write_ok") acked[10] = 110;
  std::string next = wait_leader(15s);
  ASSERT_FALSE(next.empty()) << "no leader among the healthy majority";
  ASSERT_NE(next, leader);
  for (int k = 11; k < 20; ++k) {
    ASSERT_TRUE(write(next, k, k + 100)) << "healthy majority stopped serving";
    acked[k] = k + 100;
  }
  std::ifstream log(m_->path() / (leader + ".log"));
  std::stringstream text;
  text << log.rdbuf();
  EXPECT_NE(text.str().find("fatal"), std::string::npos)
      << "the failed leader did not fail-stop: " << text.str();

  // The failed node restarts on a healthy disk and catches up.
  c.kill(leader);
  ASSERT_EQ(m_->control("clear"), "ok");
  c.start(leader);
  c.pump(1500ms);
  for (const auto& id : c.ids()) {
    for (auto [k, v] : acked) {
      std::optional<Json> rr;
      for (int attempt = 0; attempt < 40 && !(rr && (*rr)["type"] == "read_ok"); ++attempt) {
        auto got = c.request(id, {{"type", "read"}, {"key", k}});
        if (got) rr = Json::parse(got->dump());
        if (!(rr && (*rr)["type"] == "read_ok")) c.pump(100ms);
      }
      ASSERT_TRUE(rr && (*rr)["type"] == "read_ok") << "key " << k << " unreadable on " << id;
      EXPECT_EQ((*rr)["value"], v) << "acknowledged write lost: key " << k << " on " << id;
    }
  }
}

}  // namespace

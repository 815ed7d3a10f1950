// Private temporary data dirs (no --data-dir): a node that dies without
// cleaning up (SIGKILL, as Maelstrom ends every test) leaves its dir behind;
// the next node started without --data-dir removes it, and never the dir of a
// node that is still running.
//
// Each test points TMPDIR at its own scratch dir, so only the nodes it starts
// share it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"

extern char** environ;

namespace raftkv::e2e {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// A raftkv process without --data-dir whose stdin stays open until close()
// or kill(), so that it keeps running while the test looks at the disk.
class LiveNode {
 public:
  LiveNode(const std::string& tmpdir, const std::string& log_name) {
    signal(SIGPIPE, SIG_IGN);
    fs::create_directories(E2E_LOG_DIR);
    stderr_path_ = std::string(E2E_LOG_DIR) + "/" + log_name + ".stderr";
    std::vector<std::string> env_strings = {"TMPDIR=" + tmpdir};
    for (char** e = environ; *e; ++e) {
      if (std::strncmp(*e, "TMPDIR=", 7) != 0) env_strings.emplace_back(*e);
    }
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string bin = RAFTKV_BIN;
    char* argv[] = {bin.data(), nullptr};
    int in[2], out[2];
    check(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0, "pipe2");
    int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    check(err >= 0, "open stderr log");
    pid_ = fork();
    check(pid_ >= 0, "fork");
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      execve(argv[0], argv, envp.data());
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err);
    stdin_ = in[1];
    stdout_ = out[0];
  }

  ~LiveNode() {
    if (pid_ > 0) kill_now();
    if (stdin_ >= 0) ::close(stdin_);
    if (stdout_ >= 0) ::close(stdout_);
  }

  LiveNode(const LiveNode&) = delete;
  LiveNode& operator=(const LiveNode&) = delete;

  // Sends init and waits for init_ok: the node's stores are open then.
  // Returns the temporary dir the node announced on stderr.
  std::string init() {
    std::string line = std::string(kInit) + "\n";
    check(write(stdin_, line.data(), line.size()) == static_cast<ssize_t>(line.size()),
          "write init");
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    std::string got;
    char buf[4096];
    while (got.find("init_ok") == std::string::npos) {
      const int left = static_cast<int>(std::max<int64_t>(
          0,
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
      pollfd p{stdout_, POLLIN, 0};
      int ready = poll(&p, 1, left);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) throw std::runtime_error("no init_ok; stderr:\n" + stderr_text());
      ssize_t n = read(stdout_, buf, sizeof buf);
      if (n <= 0) throw std::runtime_error("stdout closed; stderr:\n" + stderr_text());
      got.append(buf, static_cast<size_t>(n));
    }
    return temp_dir();
  }

  // The dir from "using temporary DIR" on stderr, or "" when absent.
  std::string temp_dir() const {
    const std::string err = stderr_text();
    const std::string marker = "using temporary ";
    size_t at = err.find(marker);
    if (at == std::string::npos) return "";
    at += marker.size();
    return err.substr(at, err.find_first_of(" \n", at) - at);
  }

  std::string stderr_text() const { return read_file(stderr_path_); }

  void kill_now() {
    kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  // Closes stdin and returns the exit code (-1: killed after a timeout).
  int close_and_wait() {
    ::close(stdin_);
    stdin_ = -1;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) != pid_) {
      if (Clock::now() > deadline) {
        kill_now();
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string stderr_path_;
};

// Disk space allocated to the files under `dir` (what du counts, so
// preallocated blocks too).
uint64_t allocated_bytes(const std::string& dir) {
  uint64_t n = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st {};
    if (lstat(e.path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      n += static_cast<uint64_t>(st.st_blocks) * 512;
    }
  }
  return n;
}

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

TEST(TempDir, KilledNodesDirIsReclaimedAtTheNextStartAndALiveNodesIsKept) {
  ScratchDir tmp;
  LiveNode a(tmp.path(), "tempdir-a");
  const std::string dir_a = a.init();
  LiveNode b(tmp.path(), "tempdir-b");
  const std::string dir_b = b.init();
  ASSERT_FALSE(dir_a.empty()) << a.stderr_text();
  ASSERT_FALSE(dir_b.empty()) << b.stderr_text();
  ASSERT_NE(dir_a, dir_b);
  // A fresh node's stores take little disk (RocksDB preallocated 111 MB).
  const uint64_t fresh = allocated_bytes(dir_a);
  RecordProperty("fresh_node_disk_bytes", std::to_string(fresh));
  EXPECT_LT(fresh, 4u << 20) << "a fresh, empty node's dir takes " << fresh << " bytes";
  // B started while A was running: A's dir survived B's start-up sweep.
  EXPECT_TRUE(fs::is_directory(dir_a + "/n1/log")) << b.stderr_text();

  a.kill_now();
  ASSERT_TRUE(fs::exists(dir_a)) << "a SIGKILLed node cannot clean up after itself";

  LiveNode c(tmp.path(), "tempdir-c");
  const std::string dir_c = c.init();
  EXPECT_FALSE(fs::exists(dir_a)) << "the dead node's dir was left behind";
  EXPECT_NE(c.stderr_text().find("removed abandoned temporary dir " + dir_a), std::string::npos)
      << c.stderr_text();
  EXPECT_TRUE(fs::is_directory(dir_b + "/n1/log")) << "a running node's dir was removed";
  EXPECT_TRUE(fs::is_directory(dir_c + "/n1/log"));
  EXPECT_EQ(c.stderr_text().find(dir_b), std::string::npos) << c.stderr_text();

  // The survivor still works and both clean up at a normal exit.
  EXPECT_EQ(b.close_and_wait(), 0) << b.stderr_text();
  EXPECT_EQ(c.close_and_wait(), 0) << c.stderr_text();
  EXPECT_EQ(entries(tmp.path()), std::set<std::string>{});
}

// Makes DIR/n1/log/LOCK (as RocksDB leaves it) and returns its path.
std::string make_rocksdb_lock(const std::string& dir) {
  fs::create_directories(dir + "/n1/log");
  std::ofstream(dir + "/n1/log/LOCK").flush();
  std::ofstream(dir + "/n1/log/000004.log") << std::string(4096, 'x');
  return dir + "/n1/log/LOCK";
}

// Dirs that are not provably abandoned stay, whatever made them.
TEST(TempDir, OnlyProvablyAbandonedDirsAreRemoved) {
  ScratchDir tmp;
  const std::string t = tmp.path() + "/";

  // Abandoned: an unheld owner lock; an older raftkv's dir (no owner lock)
  // whose RocksDB LOCK nobody holds.
  fs::create_directories(t + "raftkv-dead01");
  std::ofstream(t + "raftkv-dead01/owner.lock").flush();
  make_rocksdb_lock(t + "raftkv-dead01");
  make_rocksdb_lock(t + "raftkv-dead02");

  // Live: an owner lock held by this process (flock); a dir with no owner
  // lock whose RocksDB LOCK this process holds (fcntl, as RocksDB does); an
  // owner lock that is free while a RocksDB LOCK is held.
  fs::create_directories(t + "raftkv-live01");
  int owner = open((t + "raftkv-live01/owner.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  ASSERT_GE(owner, 0);
  ASSERT_EQ(flock(owner, LOCK_EX | LOCK_NB), 0);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  int rocks = open(make_rocksdb_lock(t + "raftkv-live02").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(rocks, 0);
  ASSERT_EQ(fcntl(rocks, F_SETLK, &fl), 0);
  fs::create_directories(t + "raftkv-live03");
  std::ofstream(t + "raftkv-live03/owner.lock").flush();
  int rocks3 = open(make_rocksdb_lock(t + "raftkv-live03").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(rocks3, 0);
  ASSERT_EQ(fcntl(rocks3, F_SETLK, &fl), 0);

  // Not provably abandoned: a dir still being set up (nothing in it yet).
  fs::create_directories(t + "raftkv-fresh1");
  // Not raftkv temp dirs at all, though one is unlocked.
  make_rocksdb_lock(t + "raftkv-e2e-other");
  make_rocksdb_lock(t + "something-else");
  fs::create_directories(t + "target");
  fs::create_symlink(t + "target", t + "raftkv-link01");

  LiveNode n(tmp.path(), "tempdir-sweep");
  const std::string own = fs::path(n.init()).filename().string();
  EXPECT_EQ(n.close_and_wait(), 0) << n.stderr_text();
  EXPECT_EQ(
      entries(tmp.path()),
      (std::set<std::string>{"raftkv-live01", "raftkv-live02", "raftkv-live03", "raftkv-fresh1",
                             "raftkv-e2e-other", "something-else", "target", "raftkv-link01"}))
      << n.stderr_text();
  EXPECT_FALSE(fs::exists(t + own));
  close(owner);
  close(rocks);
  close(rocks3);
}

}  // namespace
}  // namespace raftkv::e2e

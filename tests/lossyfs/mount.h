// A lossyfs mount for tests: starts build/lossyfs on a fresh temp dir, waits
// until the mount answers, and always unmounts and removes everything again.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "ctl_client.h"

namespace lossyfs_test {

namespace fs = std::filesystem;

// Why FUSE cannot be used here, or "" if it can.
inline std::string fuse_unavailable() {
  if (::access("/dev/fuse", R_OK | W_OK) != 0) return "/dev/fuse is missing or not accessible";
  if (std::system("command -v fusermount3 >/dev/null 2>&1") != 0)
    return "fusermount3 is not installed (Debian fuse3)";
  return "";
}

class Mount {
 public:
  // Starts lossyfs; on failure `error()` says why.
  explicit Mount(uint64_t seed = 1) {
    std::string t = (fs::temp_directory_path() / "lossyfs-test-XXXXXX").string();
    root_ = ::mkdtemp(t.data());
    mnt_ = root_ / "mnt";
    fs::create_directories(mnt_);
    ctl_ = (root_ / "ctl.sock").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0) ::dup2(null, 1);
      std::string s = std::to_string(seed);
      ::execl(LOSSYFS_BINARY, "lossyfs", "--die-with-parent", "--seed", s.c_str(), "--ctl",
              ctl_.c_str(), (root_ / "backing").c_str(), mnt_.c_str(), nullptr);
      ::_exit(127);
    }
    // The control socket answers once the kernel has initialised the mount.
    for (int i = 0; i < 200; ++i) {
      if (fs::exists(ctl_)) {
        std::string r = lossyfs::control(ctl_, "ping", 10);
        if (r == "ok") {
          error_.clear();
          return;
        }
        error_ = r;
      }
      int st;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        error_ = "lossyfs exited before mounting";
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    if (error_.empty()) error_ = "lossyfs did not come up within 5 s";
  }

  ~Mount() {
    std::string cmd = "fusermount3 -u '" + mnt_.string() + "' 2>/dev/null || fusermount3 -uz '" +
                      mnt_.string() + "' 2>/dev/null";
    if (pid_ > 0) {
      if (std::system(cmd.c_str()) != 0) ::kill(pid_, SIGTERM);
      for (int i = 0; i < 200; ++i) {
        int st;
        if (::waitpid(pid_, &st, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        if (std::system(cmd.c_str()) != 0) { /* already unmounted */
        }
      }
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  const fs::path& path() const { return mnt_; }
  const fs::path& root() const { return root_; }
  std::string control(const std::string& cmd) const { return lossyfs::control(ctl_, cmd); }

 private:
  fs::path root_, mnt_;
  std::string ctl_;
  pid_t pid_ = -1;
  std::string error_;
};

}  // namespace lossyfs_test

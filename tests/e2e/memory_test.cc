// Memory stays bounded however much is written: the Raft log is compacted by
// bytes as well as by entries, so a node that takes 2,000 writes of 1 MB
// (2 GB in all, ten keys overwritten again and again) stays under the ceiling
// the README documents. Input is streamed to the node as it is consumed;
// the peak RSS comes from the kernel (wait4's ru_maxrss).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "harness.h"

namespace raftkv::e2e {
namespace {

// README "Resource limits": the documented ceiling with default flags.
constexpr long kCeilingMiB = 320;

TEST(Memory, TwoThousandOneMegabyteWritesStayUnderTheCeiling) {
  ScratchDir dir;
  int in[2], out[2];
  ASSERT_EQ(pipe(in), 0);
  ASSERT_EQ(pipe(out), 0);
  std::filesystem::create_directories(E2E_LOG_DIR);
  std::string log = std::string(E2E_LOG_DIR) + "/memory.stderr";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    int err = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, 2);
    close(in[1]);
    close(out[0]);
    execl(RAFTKV_BIN, RAFTKV_BIN, "--data-dir", dir.path().c_str(), nullptr);
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  constexpr int kWrites = 2000;
  const std::string value(1 << 20, 'x');
  // The writer keeps at most one pipe's worth of input ahead of the node.
  std::thread writer([&] {
    auto put = [&](const std::string& s) {
      size_t off = 0;
      while (off < s.size()) {
        ssize_t n = write(in[1], s.data() + off, s.size() - off);
        if (n <= 0) return false;
        off += static_cast<size_t>(n);
      }
      return true;
    };
    if (!put(std::string(kInit) + "\n")) return;
    for (int i = 0; i < kWrites; ++i) {
      std::string line = R"({"src":"c1","dest":"n1","body":{"type":"write","msg_id":)" +
                         std::to_string(i + 2) + R"(,"key":)" + std::to_string(i % 10) +
                         R"(,"value":")" + value + "\"}}\n";
      if (!put(line)) return;
    }
    close(in[1]);
  });
  std::string got;
  char buf[1 << 16];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) got.append(buf, static_cast<size_t>(n));
  close(out[0]);
  writer.join();
  int status = 0;
  rusage ru{};
  ASSERT_EQ(wait4(pid, &status, 0, &ru), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  size_t oks = 0;
  for (size_t p = 0; (p = got.find("\"write_ok\"", p)) != std::string::npos; ++p) ++oks;
  EXPECT_EQ(oks, static_cast<size_t>(kWrites));
  long peak_mib = ru.ru_maxrss / 1024;
  std::printf("2000 x 1 MB writes: peak RSS %ld MiB (ceiling %ld MiB)\n", peak_mib, kCeilingMiB);
  EXPECT_LT(peak_mib, kCeilingMiB);
}

}  // namespace
}  // namespace raftkv::e2e

#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace raftkv::e2e {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

std::string RunResult::stderr_text() const {
  return read_file(stderr_path);
}

std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

ScratchDir::ScratchDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "raftkv-e2e-XXXXXX").string();
  check(mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

RunResult run_raftkv(std::string_view input, const RunOptions& o) {
  // A child that dies early must not kill the test with SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  RunResult r;
  std::filesystem::create_directories(E2E_LOG_DIR);
  r.stderr_path = std::string(E2E_LOG_DIR) + "/" + o.log_name + ".stderr";

  // Everything the child needs is prepared before fork: only async-signal-
  // safe calls happen between fork and exec.
  std::vector<std::string> args = {RAFTKV_BIN};
  args.insert(args.end(), o.args.begin(), o.args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int in[2], out[2];
  check(pipe2(in, O_CLOEXEC) == 0 && pipe2(out, O_CLOEXEC) == 0, "pipe2");
  int err = open(r.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  check(err >= 0, "open stderr log");

  const auto start = Clock::now();
  pid_t pid = fork();
  check(pid >= 0, "fork");
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    if (!o.cwd.empty() && chdir(o.cwd.c_str()) != 0) _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err);

  // The whole input goes in one write where it fits the pipe, so the node
  // sees it as one batch, as it would from a fast client.
  Clock::time_point eof_at{};
  std::thread writer([&, fd = in[1]] {
    size_t off = 0;
    while (off < input.size()) {
      ssize_t n = write(fd, input.data() + off, input.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the child is gone
      off += static_cast<size_t>(n);
    }
    eof_at = Clock::now();
    close(fd);
  });

  const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(o.timeout_s));
  char buf[1 << 16];
  for (;;) {
    int left = static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
    pollfd p{out[0], POLLIN, 0};
    int ready = poll(&p, 1, left);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      r.timed_out = true;
      break;
    }
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.out.append(buf, static_cast<size_t>(n));
  }
  close(out[0]);

  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (r.timed_out || Clock::now() >= deadline) {
      r.timed_out = true;
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const auto exited_at = Clock::now();
  writer.join();
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (eof_at != Clock::time_point{}) r.seconds_after_eof = seconds(exited_at - eof_at);
  return r;
}

std::vector<std::string> non_json_lines(const std::string& out) {
  std::vector<std::string> bad;
  std::istringstream s(out);
  std::string line;
  while (std::getline(s, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) bad.push_back(line.substr(0, 200));
  }
  if (!out.empty() && out.back() != '\n') bad.push_back("(output does not end with a newline)");
  return bad;
}

}  // namespace raftkv::e2e

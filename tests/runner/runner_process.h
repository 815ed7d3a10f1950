// Runs the maelstrom-runner binary (RUNNER_BIN, set by tests/runner's
// CMakeLists) as a child process, for the end-to-end tests.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace runner_test {

struct ProcessResult {
  int status = -1;     // exit status; -1 when it did not exit normally
  std::string output;  // stdout and stderr, interleaved as written
};

// `maelstrom-runner ARGS...`, its output captured in `output_file` (kept for
// a look after a failure) and returned.
inline ProcessResult run_runner_process(std::vector<std::string> args,
                                        const std::filesystem::path& output_file) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = fopen(output_file.c_str(), "w");
    if (!f) _exit(126);
    dup2(fileno(f), 1);
    dup2(fileno(f), 2);
    std::vector<char*> argv{const_cast<char*>(RUNNER_BIN)};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(RUNNER_BIN, argv.data());
    _exit(127);
  }
  ProcessResult r;
  int status = 0;
  waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(output_file);
  r.output.assign(std::istreambuf_iterator<char>(in), {});
  return r;
}

}  // namespace runner_test

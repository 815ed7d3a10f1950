// Runs the real raftkv binary as a child process: the input goes to its
// stdin through a pipe (then stdin is closed), stdout is captured, stderr
// goes to a log file under E2E_LOG_DIR for post-mortems.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace raftkv::e2e {

struct RunOptions {
  std::vector<std::string> args{};  // after the binary name
  std::string cwd{};                // working directory; empty: inherit
  std::string log_name = "run";     // stderr goes to E2E_LOG_DIR/<log_name>.stderr
  double timeout_s = 5;             // from start to exit; the child is killed after
};

struct RunResult {
  int exit_code = -1;  // -1 when killed by a signal (including the timeout)
  bool timed_out = false;
  std::string out;               // everything written to stdout
  double seconds_after_eof = 0;  // from closing stdin to the process exiting
  std::string stderr_path;
  std::string stderr_text() const;
};

RunResult run_raftkv(std::string_view input, const RunOptions& options);

// Lines of `out` that are not a JSON object (stdout must hold only those),
// plus a note if the output does not end with a newline.
std::vector<std::string> non_json_lines(const std::string& out);

std::string read_file(const std::string& path);

// Throws, with errno's text, unless ok (for system calls in test set-up).
void check(bool ok, const char* what);

// A fresh directory removed at destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Joins messages into wire form: each one followed by a newline.
inline std::string lines(std::initializer_list<std::string_view> msgs) {
  std::string out;
  for (std::string_view m : msgs) {
    out += m;
    out += '\n';
  }
  return out;
}

// The init message every case starts with, for node n1 alone.
inline constexpr std::string_view kInit =
    R"({"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}})";

}  // namespace raftkv::e2e

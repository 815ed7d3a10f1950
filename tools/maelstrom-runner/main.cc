// maelstrom-runner: runs Maelstrom-protocol nodes under a lin-kv workload and
// faults, then checks the history for linearizability. See README.md.
#include <fmt/format.h>

#include <cstdio>
#include <string>
#include <vector>

#include "check_cmd.h"
#include "cli.h"
#include "process.h"
#include "runner.h"
#include "serve.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    fmt::print(stderr, "{}", runner::usage());
    return 2;
  }
  const std::string cmd = args[0];
  args.erase(args.begin());
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    fmt::print("{}", runner::usage());
    return 0;
  }
  for (const auto& a : args) {
    if (a == "--") break;
    if (a == "--help" || a == "-h") {
      fmt::print("{}", runner::usage());
      return 0;
    }
  }
  std::string error;
  if (cmd == "test") {
    auto opts = runner::parse_test_args(args, &error);
    if (!opts) {
      fmt::print(stderr, "maelstrom-runner test: {}\nRun maelstrom-runner --help for usage.\n",
                 error);
      return 2;
    }
    runner::install_child_cleanup();
    return runner::run_tests(*opts);
  }
  if (cmd == "check") {
    auto opts = runner::parse_check_args(args, &error);
    if (!opts) {
      fmt::print(stderr, "maelstrom-runner check: {}\nRun maelstrom-runner --help for usage.\n",
                 error);
      return 2;
    }
    return runner::run_check(*opts);
  }
  if (cmd == "serve") {
    auto opts = runner::parse_serve_args(args, &error);
    if (!opts) {
      fmt::print(stderr, "maelstrom-runner serve: {}\nRun maelstrom-runner --help for usage.\n",
                 error);
      return 2;
    }
    return runner::run_serve(*opts);
  }
  fmt::print(stderr, "maelstrom-runner: unknown command '{}' (test, check, serve or --help)\n",
             cmd);
  return 2;
}

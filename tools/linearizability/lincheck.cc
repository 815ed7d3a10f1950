// lincheck FILE.jsonl [--budget-ms N]: checks one history file.
// Exit status: 0 valid, 1 invalid, 2 unknown or error.
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>

#include "cli/flags.h"
#include "linearizability/checker.h"

int main(int argc, char** argv) {
  std::string path;
  lin::CheckOptions options;
  CLI::App app(
      "Checks one history file (JSON lines) for linearizability.\n"
      "Exit status: 0 valid, 1 invalid, 2 unknown or error.",
      "lincheck");
  raftkv::cli::configure(app);
  app.add_option("FILE.jsonl", path, "the history")->required();
  long long budget_ms = -1;
  raftkv::cli::add_int(app, "--budget-ms", &budget_ms, 0, std::numeric_limits<long long>::max(),
                       "give up (verdict unknown) after N ms")
      ->default_str(std::to_string(options.budget.count()));
  if (auto rc = raftkv::cli::parse(app, argc, argv)) return *rc;
  if (budget_ms >= 0) options.budget = std::chrono::milliseconds(budget_ms);

  std::string error;
  auto history = lin::load_history_file(path, &error);
  if (!history) {
    std::fprintf(stderr, "lincheck: %s\n", error.c_str());
    return 2;
  }
  lin::CheckReport report = lin::check(*history, options);
  for (const lin::KeyReport& k : report.keys)
    std::printf("key %s: %s (%zu ops)\n", k.key.dump().c_str(), lin::to_string(k.verdict), k.ops);
  for (const lin::KeyReport& k : report.keys)
    if (!k.explanation.empty()) std::printf("\n%s\n", k.explanation.c_str());
  std::printf("\nverdict: %s\ntime: %.3f s (%zu events, %zu keys)\n",
              lin::to_string(report.verdict), report.seconds, history->size(), report.keys.size());
  switch (report.verdict) {
    case lin::Verdict::kValid:
      return 0;
    case lin::Verdict::kInvalid:
      return 1;
    default:
      return 2;
  }
}

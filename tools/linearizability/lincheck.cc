// lincheck FILE.jsonl [--budget-ms N]: checks one history file.
// Exit status: 0 valid, 1 invalid, 2 unknown or error.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "linearizability/checker.h"

namespace {

int usage() {
  std::fprintf(stderr, "usage: lincheck FILE.jsonl [--budget-ms N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  lin::CheckOptions options;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--budget-ms") == 0 && i + 1 < argc) {
      char* end = nullptr;
      long long ms = std::strtoll(argv[++i], &end, 10);
      if (*end != '\0' || ms < 0) return usage();
      options.budget = std::chrono::milliseconds(ms);
    } else if (argv[i][0] == '-' || !path.empty()) {
      return usage();
    } else {
      path = argv[i];
    }
  }
  if (path.empty()) return usage();

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

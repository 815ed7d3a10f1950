// Linearizability checker throughput on the shared Jepsen/Porcupine
// histories (Porcupine checks all 113 in about 1.2 s, one process per file).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "linearizability/checker.h"

namespace {

std::vector<std::vector<lin::Event>> load_all() {
  std::vector<std::vector<lin::Event>> out;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(RAFTKV_HISTORIES_DIR, ec)) {
    if (e.path().extension() != ".jsonl") continue;
    std::string error;
    if (auto h = lin::load_history_file(e.path().string(), &error)) out.push_back(std::move(*h));
  }
  return out;
}

void BM_CheckSharedHistories(benchmark::State& state) {
  static const auto histories = load_all();
  if (histories.empty()) {
    state.SkipWithError("no shared histories found");
    return;
  }
  size_t events = 0;
  for (auto _ : state) {
    for (const auto& h : histories) {
      benchmark::DoNotOptimize(lin::check(h).verdict);
      events += h.size();
    }
  }
  state.counters["histories"] = static_cast<double>(histories.size());
  state.SetItemsProcessed(static_cast<int64_t>(events));
}
BENCHMARK(BM_CheckSharedHistories)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

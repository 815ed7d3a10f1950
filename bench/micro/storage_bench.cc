// Durable log append at different group-commit batch sizes, KV apply, and
// restart replay. Real RocksDB with real fsync in a temp dir.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include "kv/command.h"
#include "kv/state_machine.h"
#include "storage/kv_store.h"
#include "storage/log_store.h"

namespace fs = std::filesystem;
using namespace raftkv;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "raftkv-bench-XXXXXX").string();
    path = mkdtemp(t.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string write_cmd(uint64_t i) {
  kv::Command c;
  c.key = std::to_string(i % 1000);
  c.value = "\"" + std::string(16, 'v') + "\"";
  return kv::encode(c);
}

// One synced WriteBatch per batch of `range(0)` entries: what group commit buys.
void BM_LogAppendSync(benchmark::State& state) {
  TempDir dir;
  storage::LogStore log(dir.path.string());
  uint64_t index = 0;
  const int batch = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::vector<raft::Entry> entries;
    for (int i = 0; i < batch; ++i) {
      ++index;
      entries.push_back({1, index, raft::EntryType::kNormal, write_cmd(index)});
    }
    log.save(raft::HardState{1, "n0", index}, entries);
  }
  state.SetItemsProcessed(static_cast<int64_t>(index));
  state.counters["fsyncs/s"] =
      benchmark::Counter(static_cast<double>(log.syncs()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LogAppendSync)->RangeMultiplier(4)->Range(1, 1024)->UseRealTime();

void BM_StateMachineApply(benchmark::State& state) {
  TempDir dir;
  storage::KvStore store(dir.path.string());
  kv::StateMachine sm(store);
  uint64_t index = 0;
  for (auto _ : state) {
    std::vector<raft::Entry> entries;
    for (int i = 0; i < 64; ++i) {
      ++index;
      entries.push_back({1, index, raft::EntryType::kNormal, write_cmd(index)});
    }
    sm.apply(entries);
  }
  state.SetItemsProcessed(static_cast<int64_t>(index));
}
BENCHMARK(BM_StateMachineApply)->UseRealTime();

// Restart: load a log of range(0) entries and replay it into an empty KV store.
void BM_RestartReplay(benchmark::State& state) {
  TempDir dir;
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  {
    storage::LogStore log((dir.path / "log").string());
    std::vector<raft::Entry> entries;
    for (uint64_t i = 1; i <= n; ++i) {
      entries.push_back({1, i, raft::EntryType::kNormal, write_cmd(i)});
      if (entries.size() == 4096 || i == n) {
        log.save(raft::HardState{1, "n0", i}, entries);
        entries.clear();
      }
    }
  }
  int round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fs::path kv_dir = dir.path / ("kv" + std::to_string(round++));
    state.ResumeTiming();
    storage::LogStore log((dir.path / "log").string());
    raft::Restored r = log.load();
    storage::KvStore store(kv_dir.string());
    kv::StateMachine sm(store);
    std::vector<raft::Entry> batch;
    for (auto& e : r.entries) {
      batch.push_back(std::move(e));
      if (batch.size() == 1024) {
        sm.apply(batch);
        batch.clear();
      }
    }
    sm.apply(batch);
    benchmark::DoNotOptimize(store.applied_index());
  }
  state.SetItemsProcessed(static_cast<int64_t>(n) * state.iterations());
}
BENCHMARK(BM_RestartReplay)
    ->Arg(1000000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

namespace {

uint64_t dir_bytes(const fs::path& p) {
  uint64_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(p)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

// On-disk size of the log store after range(0) writes, without compaction
// (arg 1 = 0) and with the node's default policy (compact once more than
// 10,000 applied entries are in the log).
void BM_LogDiskSize(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  const bool compact = state.range(1) != 0;
  for (auto _ : state) {
    TempDir dir;
    {
      storage::LogStore log(dir.path.string());
      std::vector<raft::Entry> entries;
      for (uint64_t i = 1; i <= n; ++i) {
        entries.push_back({1, i, raft::EntryType::kNormal, write_cmd(i)});
        if (entries.size() == 64 || i == n) {
          log.save(raft::HardState{1, "n0", i}, entries);
          entries.clear();
          if (compact && i - log.first_index() + 1 > 10000) log.compact(i, 1);
        }
      }
    }
    // Reopening lets RocksDB finish flushes; the size is what stays on disk.
    { storage::LogStore reopened(dir.path.string()); }
    state.counters["disk_MiB"] = static_cast<double>(dir_bytes(dir.path)) / (1 << 20);
  }
}
BENCHMARK(BM_LogDiskSize)
    ->Args({100000, 0})
    ->Args({100000, 1})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

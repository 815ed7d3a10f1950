// Child of the StorageContractKill tests: runs a seeded history (the same
// generators as the contract suite) against the RocksDB log or KV store in
// DIR and writes the number of completed ops after each one, until it is
// SIGKILLed. Usage: contract_crash_child log|kv DIR SEED N
#include <unistd.h>

#include <cstdio>
#include <string>

#include "contract_model.h"
#include "storage/kv_store.h"
#include "storage/log_store.h"

namespace {

void report(size_t completed) {
  std::string line = std::to_string(completed) + "\n";
  if (write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(3);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace raftkv::storage;
  if (argc != 5) return 2;
  std::string mode = argv[1], dir = argv[2];
  uint64_t seed = std::stoull(argv[3]);
  size_t n = std::stoul(argv[4]);
  if (mode == "log") {
    auto ops = contract::generate_log_ops(seed, n);
    LogStore s(dir);
    s.load();
    for (size_t i = 0; i < ops.size(); ++i) {
      contract::run(s, ops[i]);
      report(i + 1);
    }
  } else if (mode == "kv") {
    auto ops = contract::generate_kv_ops(seed, n, contract::kKillTestKvOptions);
    KvStore kv(dir);
    contract::KvRunner runner(kv);
    for (size_t i = 0; i < ops.size(); ++i) {
      runner.run(ops[i]);
      report(i + 1);
    }
    runner.drop_writer();
  } else {
    return 2;
  }
  // Wait for the kill, so every run ends the same way.
  report(n);
  for (;;) pause();
}

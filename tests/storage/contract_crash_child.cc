// Child of the StorageContractKill tests: runs a seeded history (the same
// generators as the contract suite) against the RocksDB log or KV store in
// DIR and writes the number of completed ops after each one, until it is
// SIGKILLed. Usage: contract_crash_child log|kv|members DIR SEED N, or
// contract_crash_child install DIR SEED 0 (back-to-back installs, forever).
// members: N applies, each recording apply_membership() of its index,
// synced every 17.
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

void say(const std::string& what) {
  std::string line = what + "\n";
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
  } else if (mode == "members") {
    KvStore kv(dir);
    for (uint64_t i = 1; i <= n; ++i) {
      kv.apply(contract::membership_test_apply(i), i, 1, contract::apply_membership(i));
      if (i % 17 == 0) kv.sync();
      report(i);
    }
  } else if (mode == "install") {
    // Back-to-back chunked installs with applies between (install_state):
    // "chunk", "commit <index>" and "apply <index>" lines say what returned.
    KvStore kv(dir);
    uint64_t a = kv.applied_index();
    // The first install of a run skips 0-2 points (by SEED), so it does not
    // just redo the one a kill interrupted: residue of that one would show.
    for (uint64_t base = a - a % 10 + 10 * (1 + seed % 3);; base += 10) {
      auto pairs = contract::install_map(base);
      auto w = kv.begin_snapshot(base, base / 10, contract::install_membership(base));
      KvPairs chunk;
      for (auto& p : pairs) {
        chunk.push_back(p);
        if (chunk.size() == 300) {
          w->add(chunk);
          chunk.clear();
          say("chunk");
        }
      }
      w->add(chunk);
      w->commit();
      say("commit " + std::to_string(base));
      for (uint64_t i = base + 1; i <= base + 3; ++i) {
        KvPairs puts = contract::install_apply(i);
        kv.apply(KvWrites(puts.begin(), puts.end()), i, base / 10, contract::apply_membership(i));
        say("apply " + std::to_string(i));
      }
    }
  } else {
    return 2;
  }
  // Wait for the kill, so every run ends the same way.
  report(n);
  for (;;) pause();
}

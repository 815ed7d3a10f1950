// Helper for KvStore.CrashKeepsAppliedIndexWithItsData: applies batches
// forever, each one moving the applied index with its data, until killed.
// Batch i puts "last" = i and "x<i>" = i with applied index i.
#include <cstdio>
#include <string>

#include "storage/kv_store.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  raftkv::storage::KvStore store(argv[1]);
  for (uint64_t i = store.applied_index() + 1;; ++i) {
    std::string n = std::to_string(i);
    store.apply({{"last", n}, {"x" + n, n}}, i, 1);
    if (i == 200) {
      std::puts("ready");  // enough history that a kill lands mid-stream
      std::fflush(stdout);
    }
  }
}

// What each worker does next. The lin-kv generator follows
// jepsen.tests.linearizable-register: keys 0,1,2,... each worked on by one
// group of 2 x nodes workers, half of which only read while the rest pick
// write/cas/cas; a key retires once enough distinct processes used it.
// Other workloads (e.g. write-heavy benchmarks) plug in a different
// OpGenerator or a --mix.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "linearizability/history.h"

namespace runner {

struct OpSpec {
  lin::Fn f = lin::Fn::kRead;
  nlohmann::json key;
  nlohmann::json value;  // null for reads, v for writes, [from, to] for cas
};

class OpGenerator {
 public:
  virtual ~OpGenerator() = default;
  virtual OpSpec next(int worker, int64_t process) = 0;
};

struct LinKvGeneratorOptions {
  int concurrency = 10;
  int node_count = 5;
  int process_limit = 20;
  std::optional<int64_t> per_key_limit;
  std::map<std::string, double> mix;  // empty: readers/writers split
  // Set: every op picks a uniformly random key of 0..N-1, so throughput runs
  // spread over many keys and each key's history stays short for the checker.
  std::optional<int64_t> key_count;
};

class LinKvGenerator : public OpGenerator {
 public:
  LinKvGenerator(LinKvGeneratorOptions opts, std::mt19937_64& rng);
  OpSpec next(int worker, int64_t process) override;

  // Which key a group is on now (for tests).
  int64_t group_key(int group) const { return groups_[group].key; }

 private:
  struct Group {
    int64_t key = -1;
    std::set<int64_t> processes;
    int64_t ops = 0;
    int64_t op_limit = 0;  // 0 = unlimited
  };
  void next_key(Group& g);
  lin::Fn pick_f(bool reader);

  LinKvGeneratorOptions opts_;
  std::mt19937_64& rng_;
  std::vector<Group> groups_;
  int64_t next_key_ = 0;
};

}  // namespace runner

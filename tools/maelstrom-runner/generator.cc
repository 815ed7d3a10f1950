#include "generator.h"

namespace runner {

LinKvGenerator::LinKvGenerator(LinKvGeneratorOptions opts, std::mt19937_64& rng)
    : opts_(std::move(opts)), rng_(rng) {
  int group_size = 2 * opts_.node_count;
  groups_.resize(std::max(1, opts_.concurrency / group_size));
  for (auto& g : groups_) next_key(g);
}

void LinKvGenerator::next_key(Group& g) {
  g.key = next_key_++;
  g.processes.clear();
  g.ops = 0;
  g.op_limit = 0;
  if (opts_.per_key_limit) {
    // Jepsen jitters the limit by up to 10% so keys do not all retire at the
    // same moment (e.g. right at a fault boundary).
    double jitter = std::uniform_real_distribution<double>(0.9, 1.0)(rng_);
    g.op_limit = std::max<int64_t>(1, static_cast<int64_t>(*opts_.per_key_limit * jitter));
  }
}

lin::Fn LinKvGenerator::pick_f(bool reader) {
  if (!opts_.mix.empty()) {
    std::vector<lin::Fn> fs;
    std::vector<double> ws;
    for (auto& [name, w] : opts_.mix) {
      fs.push_back(name == "read"    ? lin::Fn::kRead
                   : name == "write" ? lin::Fn::kWrite
                                     : lin::Fn::kCas);
      ws.push_back(w);
    }
    std::discrete_distribution<size_t> d(ws.begin(), ws.end());
    return fs[d(rng_)];
  }
  if (reader) return lin::Fn::kRead;
  // write, cas, cas as in gen/mix [w cas cas].
  return std::uniform_int_distribution<int>(0, 2)(rng_) == 0 ? lin::Fn::kWrite : lin::Fn::kCas;
}

OpSpec LinKvGenerator::next(int worker, int64_t process) {
  int group_size = 2 * opts_.node_count;
  OpSpec op;
  if (!opts_.key_count) {
    Group& g = groups_[(worker / group_size) % groups_.size()];
    bool new_process = !g.processes.count(process);
    if ((new_process && static_cast<int>(g.processes.size()) >= opts_.process_limit) ||
        (g.op_limit > 0 && g.ops >= g.op_limit)) {
      next_key(g);
    }
    g.processes.insert(process);
    ++g.ops;
    op.key = g.key;
  }
  // As gen/reserve: the first half of each group's threads are readers.
  bool reader = (worker % group_size) < opts_.node_count;
  op.f = pick_f(reader);
  if (opts_.key_count)
    op.key = std::uniform_int_distribution<int64_t>(0, *opts_.key_count - 1)(rng_);
  std::uniform_int_distribution<int> v(0, 4);
  switch (op.f) {
    case lin::Fn::kRead:
      op.value = nullptr;
      break;
    case lin::Fn::kWrite:
      op.value = v(rng_);
      break;
    case lin::Fn::kCas:
      op.value = nlohmann::json::array({v(rng_), v(rng_)});
      break;
  }
  return op;
}

}  // namespace runner

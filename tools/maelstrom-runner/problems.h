// Things a node did wrong that are not linearizability violations (malformed
// output, unknown destinations, crashes, missing init_ok). They are reported
// in results.json and on the terminal.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace runner {

class Problems {
 public:
  // Keeps the first few examples of each kind and counts the rest.
  void add(const std::string& kind, const std::string& detail) {
    auto& k = kinds_[kind];
    if (k.examples.size() < kMaxExamples) k.examples.push_back(detail);
    ++k.count;
  }
  struct Kind {
    int64_t count = 0;
    std::vector<std::string> examples;
  };
  const std::map<std::string, Kind>& kinds() const { return kinds_; }
  bool empty() const { return kinds_.empty(); }

 private:
  static constexpr size_t kMaxExamples = 5;
  std::map<std::string, Kind> kinds_;
};

}  // namespace runner

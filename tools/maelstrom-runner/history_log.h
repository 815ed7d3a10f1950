// The run's history: client operations (history.jsonl, exactly the shared
// format, so any checker can read it) and nemesis events (nemesis.jsonl, kept
// apart because the shared format allows integer processes only). Lines are
// written as they happen, so a hung run still leaves its history behind.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "linearizability/history.h"

namespace runner {

// One completed-or-not operation, for statistics and plots.
struct OpRecord {
  int64_t process = 0;
  lin::Fn f = lin::Fn::kRead;
  std::string node;
  int64_t invoke_ns = 0;  // relative to the test start
  int64_t complete_ns = -1;
  lin::EventType type = lin::EventType::kInvoke;  // completion type
  bool final_read = false;
};

struct NemesisEvent {
  int64_t time = 0;  // relative ns
  std::string f;     // start-partition, stop-partition, start-kill, ...
  nlohmann::json value;
};

class HistoryLog {
 public:
  HistoryLog(int64_t t0_mono, const std::string& dir);

  int64_t rel(int64_t mono) const { return mono - t0_; }
  int64_t now() const;

  // Returns the op's index, for complete().
  size_t invoke(int64_t process, lin::Fn f, const nlohmann::json& key, const nlohmann::json& value,
                const std::string& node, bool final_read);
  void complete(size_t op, lin::EventType type, const nlohmann::json& value);
  void nemesis(const std::string& f, nlohmann::json value);
  void flush();

  const std::vector<lin::Event>& events() const { return events_; }
  const std::vector<OpRecord>& ops() const { return ops_; }
  const std::vector<NemesisEvent>& nemesis_events() const { return nemesis_; }

 private:
  void append(const lin::Event& e);

  int64_t t0_;
  std::ofstream history_;
  std::ofstream nemesis_file_;
  std::vector<lin::Event> events_;
  std::vector<OpRecord> ops_;
  std::vector<lin::Event> invokes_;  // per op, to build completions
  std::vector<NemesisEvent> nemesis_;
};

}  // namespace runner

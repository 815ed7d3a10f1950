#include "history_log.h"

#include "clock.h"

namespace runner {

HistoryLog::HistoryLog(int64_t t0_mono, const std::string& dir)
    : t0_(t0_mono), history_(dir + "/history.jsonl"), nemesis_file_(dir + "/nemesis.jsonl") {}

int64_t HistoryLog::now() const {
  return rel(mono_ns());
}

void HistoryLog::append(const lin::Event& e) {
  events_.push_back(e);
  history_ << lin::to_jsonl(e) << '\n';
}

size_t HistoryLog::invoke(int64_t process, lin::Fn f, const nlohmann::json& key,
                          const nlohmann::json& value, const std::string& node, bool final_read) {
  lin::Event e;
  e.process = process;
  e.type = lin::EventType::kInvoke;
  e.f = f;
  e.key = key;
  e.value = f == lin::Fn::kRead ? nlohmann::json() : value;
  e.time = now();
  append(e);
  invokes_.push_back(e);
  ops_.push_back(OpRecord{process, f, node, e.time, -1, lin::EventType::kInvoke, final_read});
  return ops_.size() - 1;
}

void HistoryLog::complete(size_t op, lin::EventType type, const nlohmann::json& value) {
  lin::Event e = invokes_[op];
  e.type = type;
  // Only an ok read learns a value; everything else repeats its input.
  if (e.f == lin::Fn::kRead) e.value = type == lin::EventType::kOk ? value : nlohmann::json();
  // Never equal to the invoke, so real-time order is unambiguous.
  e.time = std::max(now(), e.time + 1);
  append(e);
  ops_[op].complete_ns = e.time;
  ops_[op].type = type;
}

void HistoryLog::nemesis(const std::string& f, nlohmann::json value) {
  NemesisEvent n{now(), f, std::move(value)};
  nlohmann::ordered_json j;
  j["process"] = "nemesis";
  j["type"] = "info";
  j["f"] = n.f;
  j["value"] = n.value;
  j["time"] = n.time;
  nemesis_file_ << j.dump() << '\n';
  nemesis_.push_back(std::move(n));
}

void HistoryLog::flush() {
  history_.flush();
  nemesis_file_.flush();
}

}  // namespace runner

// JSON-lines history I/O. The parser is strict about each line's shape (so a
// buggy writer is caught at the line it broke) but does not check how lines
// pair up across processes; check() reports that, since in-memory histories
// never pass through here.
#include "linearizability/history.h"

#include <fstream>
#include <istream>

namespace lin {

// Values may hold arbitrary bytes from a buggy node; never throw while writing.
std::string dump_json(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const char* to_string(Fn f) {
  switch (f) {
    case Fn::kRead:
      return "read";
    case Fn::kWrite:
      return "write";
    case Fn::kCas:
      return "cas";
  }
  return "?";
}

const char* to_string(EventType t) {
  switch (t) {
    case EventType::kInvoke:
      return "invoke";
    case EventType::kOk:
      return "ok";
    case EventType::kFail:
      return "fail";
    case EventType::kInfo:
      return "info";
  }
  return "?";
}

namespace {

std::optional<Fn> parse_fn(const std::string& s) {
  if (s == "read") return Fn::kRead;
  if (s == "write") return Fn::kWrite;
  if (s == "cas") return Fn::kCas;
  return std::nullopt;
}

std::optional<EventType> parse_type(const std::string& s) {
  if (s == "invoke") return EventType::kInvoke;
  if (s == "ok") return EventType::kOk;
  if (s == "fail") return EventType::kFail;
  if (s == "info") return EventType::kInfo;
  return std::nullopt;
}

// Returns an empty string on success, else what is wrong with the line.
std::string parse_event(const std::string& line, Event* e) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return "not valid JSON";
  if (!j.is_object()) return "not a JSON object";

  auto p = j.find("process");
  if (p == j.end()) return "missing \"process\"";
  if (!p->is_number_integer()) return "\"process\" must be an integer, got " + dump_json(*p);
  e->process = p->get<int64_t>();

  auto t = j.find("type");
  if (t == j.end()) return "missing \"type\"";
  auto type = t->is_string() ? parse_type(t->get<std::string>()) : std::nullopt;
  if (!type) return "\"type\" must be invoke, ok, fail or info, got " + dump_json(*t);
  e->type = *type;

  auto f = j.find("f");
  if (f == j.end()) return "missing \"f\"";
  auto fn = f->is_string() ? parse_fn(f->get<std::string>()) : std::nullopt;
  if (!fn) return "\"f\" must be read, write or cas, got " + dump_json(*f);
  e->f = *fn;

  auto k = j.find("key");
  e->key = k == j.end() ? nlohmann::json() : *k;
  if (e->key.is_structured()) return "\"key\" must be a JSON scalar, got " + dump_json(e->key);

  auto v = j.find("value");
  e->value = v == j.end() ? nlohmann::json() : *v;
  // The checker takes a write's or cas's value from its invoke, so only the
  // invoke must carry it; completions usually repeat it but need not.
  bool invoke = e->type == EventType::kInvoke;
  if (invoke && e->f == Fn::kWrite && v == j.end()) return "write invoke without \"value\"";
  if (invoke && e->f == Fn::kCas && !(e->value.is_array() && e->value.size() == 2))
    return "cas \"value\" must be [from, to], got " + dump_json(e->value);
  if (e->f == Fn::kRead && e->type == EventType::kOk && v == j.end())
    return "ok read without \"value\" (use null for an absent key)";

  auto tm = j.find("time");
  if (tm == j.end()) return "missing \"time\"";
  if (!tm->is_number_integer())
    return "\"time\" must be integer nanoseconds, got " + dump_json(*tm);
  e->time = tm->get<int64_t>();
  return "";
}

}  // namespace

std::string to_jsonl(const Event& e) {
  std::string s = "{\"process\":" + std::to_string(e.process) + ",\"type\":\"" + to_string(e.type) +
                  "\",\"f\":\"" + to_string(e.f) + "\",\"key\":" + dump_json(e.key) +
                  ",\"value\":" + dump_json(e.value) + ",\"time\":" + std::to_string(e.time) + "}";
  return s;
}

std::optional<std::vector<Event>> parse_history(std::istream& in, std::string* error) {
  std::vector<Event> events;
  std::string line;
  for (size_t lineno = 1; std::getline(in, line); ++lineno) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Event e;
    std::string problem = parse_event(line, &e);
    if (!problem.empty()) {
      if (error) {
        std::string shown = line.size() > 200 ? line.substr(0, 200) + "..." : line;
        *error = "line " + std::to_string(lineno) + ": " + problem + ": " + shown;
      }
      return std::nullopt;
    }
    events.push_back(std::move(e));
  }
  if (in.bad()) {
    if (error) *error = "read error";
    return std::nullopt;
  }
  return events;
}

std::optional<std::vector<Event>> load_history_file(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    if (error) *error = path + ": cannot open";
    return std::nullopt;
  }
  auto events = parse_history(in, error);
  if (!events && error) *error = path + ": " + *error;
  return events;
}

}  // namespace lin

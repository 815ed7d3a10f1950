// History events in the JSON-lines format of shared/histories/README.md:
//   {"process":3,"type":"invoke","f":"cas","key":"x","value":[1,2],"time":123}
// Shared by the runner (which writes history.jsonl), the simulation tests (which
// build histories in memory) and the checker.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace lin {

enum class Fn { kRead, kWrite, kCas };
enum class EventType { kInvoke, kOk, kFail, kInfo };

struct Event {
  int64_t process = 0;
  EventType type = EventType::kInvoke;
  Fn f = Fn::kRead;
  // Any JSON scalar; null (or missing in the file) means "the single register".
  nlohmann::json key;
  // read invoke: null; read ok: value read (null = absent); write: value written;
  // cas: [from, to].
  nlohmann::json value;
  int64_t time = 0;  // nanoseconds
};

// Compact JSON text of any value; invalid UTF-8 in strings is replaced,
// never thrown on (keys and values come from the system under test).
std::string dump_json(const nlohmann::json& j);

const char* to_string(Fn f);
const char* to_string(EventType t);

// One event as one compact JSON line (no trailing newline), keys in the order
// process, type, f, key, value, time.
std::string to_jsonl(const Event& e);

// Parses a JSON-lines history. Blank lines are skipped. On a malformed line
// returns nullopt and describes the line number and problem in *error.
std::optional<std::vector<Event>> parse_history(std::istream& in, std::string* error);
std::optional<std::vector<Event>> load_history_file(const std::string& path, std::string* error);

}  // namespace lin

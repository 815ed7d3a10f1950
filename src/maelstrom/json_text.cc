#include "maelstrom/json_text.h"

namespace raftkv::maelstrom {

std::string canonical_text(const Json& value) {
  // Only objects (whose member order may differ) need the round trip
  // through nlohmann::json, which keeps members sorted.
  if (!value.is_structured()) return value.dump();
  return nlohmann::json::parse(value.dump()).dump();
}

std::optional<Json> parse_value(std::string_view text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

}  // namespace raftkv::maelstrom

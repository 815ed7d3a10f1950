#include "resp/replies.h"

#include <algorithm>
#include <cctype>

#include "resp/encode.h"

namespace raftkv::resp {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

void append_hello_reply(std::string& out, const HelloFields& f) {
  append_array_header(out, 14);
  append_bulk(out, "server");
  append_bulk(out, f.server);
  append_bulk(out, "version");
  append_bulk(out, f.version);
  append_bulk(out, "proto");
  append_integer(out, 2);
  append_bulk(out, "id");
  append_integer(out, f.id);
  append_bulk(out, "mode");
  append_bulk(out, f.mode);
  append_bulk(out, "role");
  append_bulk(out, f.role);
  append_bulk(out, "modules");
  append_array_header(out, 0);
}

bool info_wants(const Info& info, std::string_view section) {
  if (info.sections.empty()) return true;
  std::string name = lower(section);
  for (const auto& s : info.sections) {
    if (s == "default" || s == "all" || s == "everything" || s == name) return true;
  }
  return false;
}

void append_info_reply(std::string& out, const Info& info, const std::vector<InfoSection>& all) {
  std::string text;
  for (const auto& section : all) {
    if (!info_wants(info, section.name)) continue;
    if (!text.empty()) text += "\r\n";
    text += "# " + section.name + "\r\n";
    for (const auto& [key, value] : section.fields) text += key + ":" + value + "\r\n";
  }
  append_bulk(out, text);
}

}  // namespace raftkv::resp

#include "resp/reply.h"

#include <cstdio>

namespace raftkv::resp {
namespace {

void append_quoted(std::string& out, const std::string& s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02x", c);
          out += hex;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_display(std::string& out, const Reply& r) {
  switch (r.type) {
    case Reply::Type::kSimple:
      out += r.str;
      return;
    case Reply::Type::kError:
      out += "(error) " + r.str;
      return;
    case Reply::Type::kInteger:
      out += "(integer) " + std::to_string(r.integer);
      return;
    case Reply::Type::kBulk:
      append_quoted(out, r.str);
      return;
    case Reply::Type::kNull:
      out += "(nil)";
      return;
    case Reply::Type::kArray:
      out.push_back('[');
      for (size_t i = 0; i < r.elements.size(); ++i) {
        if (i > 0) out += ", ";
        append_display(out, r.elements[i]);
      }
      out.push_back(']');
      return;
  }
}

}  // namespace

std::string to_display(const Reply& r) {
  std::string out;
  append_display(out, r);
  return out;
}

}  // namespace raftkv::resp

#include "resp/encode.h"

#include <charconv>

namespace raftkv::resp {
namespace {

void append_line_text(std::string& out, std::string_view s) {
  size_t start = out.size();
  out.append(s);
  for (size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  }
}

void append_number(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void append_header(std::string& out, char type, int64_t n) {
  out.push_back(type);
  append_number(out, n);
  out.append("\r\n");
}

}  // namespace

void append_simple(std::string& out, std::string_view s) {
  out.push_back('+');
  append_line_text(out, s);
  out.append("\r\n");
}

void append_error(std::string& out, std::string_view message) {
  out.push_back('-');
  append_line_text(out, message);
  out.append("\r\n");
}

void append_integer(std::string& out, int64_t v) {
  append_header(out, ':', v);
}

void append_bulk(std::string& out, std::string_view bytes) {
  append_header(out, '$', static_cast<int64_t>(bytes.size()));
  out.append(bytes);
  out.append("\r\n");
}

void append_null(std::string& out) {
  out.append("$-1\r\n");
}

void append_null_array(std::string& out) {
  out.append("*-1\r\n");
}

void append_array_header(std::string& out, size_t n) {
  append_header(out, '*', static_cast<int64_t>(n));
}

void append_bulk_array(std::string& out, std::span<const std::string> items) {
  append_array_header(out, items.size());
  for (const auto& s : items) append_bulk(out, s);
}

void append_bulk_array(std::string& out, std::initializer_list<std::string_view> items) {
  append_array_header(out, items.size());
  for (auto s : items) append_bulk(out, s);
}

void append_reply(std::string& out, const Reply& r) {
  switch (r.type) {
    case Reply::Type::kSimple:
      return append_simple(out, r.str);
    case Reply::Type::kError:
      return append_error(out, r.str);
    case Reply::Type::kInteger:
      return append_integer(out, r.integer);
    case Reply::Type::kBulk:
      return append_bulk(out, r.str);
    case Reply::Type::kNull:
      return append_null(out);
    case Reply::Type::kArray:
      append_array_header(out, r.elements.size());
      for (const auto& e : r.elements) append_reply(out, e);
      return;
  }
}

}  // namespace raftkv::resp

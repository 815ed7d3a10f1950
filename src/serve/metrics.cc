#include "serve/metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace raftkv::serve {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double v) {
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin();
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::render(std::string& out, std::string_view name, std::string_view help) const {
  render_header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, bounds_[i], cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, sum_, name, count_);
}

void render_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void render_metric(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, double value) {
  render_header(out, name, type, help);
  out += fmt::format("{} {}\n", name, value);
}

void render_labelled(std::string& out, std::string_view name, std::string_view label,
                     std::string_view label_value, double value) {
  // Label values here are node ids from the command line; escape anyway.
  std::string escaped;
  for (char c : label_value) {
    if (c == '\\' || c == '"') escaped.push_back('\\');
    if (c == '\n') {
      escaped += "\\n";
      continue;
    }
    escaped.push_back(c);
  }
  out += fmt::format("{}{{{}=\"{}\"}} {}\n", name, label, escaped, value);
}

std::string http_reply(int status, std::string_view reason, std::string_view content_type,
                       std::string_view body) {
  return fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
      status, reason, content_type, body.size(), body);
}

}  // namespace raftkv::serve

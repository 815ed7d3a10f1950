// Operator metrics for serve mode, in Prometheus's text exposition format
// (version 0.0.4), served on /metrics by a tiny HTTP responder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace raftkv::serve {

// A cumulative histogram with fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  // "# TYPE name histogram" and its _bucket, _sum and _count lines.
  void render(std::string& out, std::string_view name, std::string_view help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last: +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Appends one sample with its HELP and TYPE lines.
void render_metric(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, double value);
// A sample of a family already introduced, with labels: name{k="v"} value.
void render_labelled(std::string& out, std::string_view name, std::string_view label,
                     std::string_view label_value, double value);
void render_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help);

// The HTTP side: given what a client sent so far, the full response to
// write (then close), or "" while the request head is incomplete.
// `body` is called only for GET /metrics.
template <typename Body>
std::string http_response(std::string_view request, Body&& body);

// Implementation detail of http_response.
std::string http_reply(int status, std::string_view reason, std::string_view content_type,
                       std::string_view body);

template <typename Body>
std::string http_response(std::string_view request, Body&& body) {
  if (request.find("\r\n\r\n") == std::string_view::npos &&
      request.find("\n\n") == std::string_view::npos) {
    if (request.size() > 8192)
      return http_reply(431, "Request Header Fields Too Large", "text/plain", "too large\n");
    return "";
  }
  size_t line_end = request.find_first_of("\r\n");
  std::string_view line = request.substr(0, line_end);
  if (line.rfind("GET ", 0) != 0 && line.rfind("HEAD ", 0) != 0) {
    return http_reply(405, "Method Not Allowed", "text/plain", "only GET\n");
  }
  std::string_view target = line.substr(line.find(' ') + 1);
  target = target.substr(0, target.find(' '));
  if (target != "/metrics" && target.rfind("/metrics?", 0) != 0) {
    return http_reply(404, "Not Found", "text/plain", "try /metrics\n");
  }
  return http_reply(200, "OK", "text/plain; version=0.0.4; charset=utf-8", body());
}

}  // namespace raftkv::serve

#include "check_cmd.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "linearizability/checker.h"
#include "report.h"
#include "results.h"

namespace runner {

namespace {

bool write_check_report(const CheckCmdOptions& opts, const std::vector<lin::Event>& events,
                        const lin::CheckReport& report, size_t skipped) {
  ReportInput in;
  in.title = opts.file;
  in.history = &events;
  in.check = &report;
  in.time_base_ns = events.empty() ? 0 : events.front().time;
  size_t invalid = 0;
  for (const auto& k : report.keys) invalid += k.verdict == lin::Verdict::kInvalid;
  in.summary = {
      fmt::format("History file {}: {} events{}.", opts.file, events.size(),
                  skipped ? fmt::format(" ({} nemesis lines skipped)", skipped) : ""),
      fmt::format("Linearizability: {} ({} keys, {} invalid; checked in {:.3f} s).",
                  lin::to_string(report.verdict), report.keys.size(), invalid, report.seconds)};
  std::string error;
  if (!write_report(opts.html, in, &error)) {
    fmt::print(stderr, "error: {}\n", error);
    return false;
  }
  fmt::print("report: {}\n", opts.html);
  return true;
}

}  // namespace

int run_check(const CheckCmdOptions& opts) {
  std::ifstream in(opts.file);
  if (!in) {
    fmt::print(stderr, "error: cannot open {}\n", opts.file);
    return 2;
  }
  // Jepsen-style histories may carry nemesis entries (non-integer process);
  // they say nothing about the registers, so they are skipped.
  std::stringstream filtered;
  std::string line;
  size_t skipped = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("process") &&
        !j["process"].is_number_integer()) {
      ++skipped;
      filtered << '\n';  // keeps line numbers in parse errors right
      continue;
    }
    filtered << line << '\n';
  }
  std::string error;
  auto events = lin::parse_history(filtered, &error);
  if (!events) {
    fmt::print(stderr, "error: {}: {}\n", opts.file, error);
    return 2;
  }
  lin::CheckOptions copts;
  copts.budget = std::chrono::milliseconds(static_cast<int64_t>(opts.budget_s * 1000));
  lin::CheckReport report = lin::check(*events, copts);
  size_t invalid = 0, unknown = 0;
  for (const auto& k : report.keys) {
    invalid += k.verdict == lin::Verdict::kInvalid;
    unknown += k.verdict == lin::Verdict::kUnknown;
  }
  fmt::print("{}: {} events{}, {} keys ({} invalid, {} unknown), checked in {:.3f} s\n", opts.file,
             events->size(), skipped ? fmt::format(" ({} nemesis lines skipped)", skipped) : "",
             report.keys.size(), invalid, unknown, report.seconds);
  fmt::print("{}", violations_text(report, 5));
  if (!opts.html.empty() && !write_check_report(opts, *events, report, skipped)) return 2;
  fmt::print("verdict: {}\n", lin::to_string(report.verdict));
  return exit_code(report.verdict);
}

}  // namespace runner

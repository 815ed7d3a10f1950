#include "metrics.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>

namespace runner {
namespace {

int64_t field_int(const std::map<std::string, std::string>& f, const char* key) {
  auto it = f.find(key);
  int64_t v = 0;
  if (it != f.end()) std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  return v;
}

}  // namespace

std::optional<double> proc_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  // comm (field 2) may contain spaces and parens: fields resume after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 2));
  std::string skip;
  for (int field = 3; field < 14; ++field) rest >> skip;  // state .. majflt, cmajflt
  double utime = 0, stime = 0;
  if (!(rest >> utime >> stime)) return std::nullopt;
  return (utime + stime) / sysconf(_SC_CLK_TCK);
}

double rusage_cpu_seconds(const struct rusage& ru) {
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double self_cpu_seconds() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return rusage_cpu_seconds(ru);
}

std::optional<std::map<std::string, std::string>> parse_stats_line(std::string_view line) {
  constexpr std::string_view kPrefix = "raftkv stats:";
  auto at = line.find(kPrefix);
  if (at == std::string_view::npos) return std::nullopt;
  std::map<std::string, std::string> fields;
  std::istringstream in{std::string(line.substr(at + kPrefix.size()))};
  std::string word;
  while (in >> word) {
    auto eq = word.find('=');
    if (eq != std::string::npos && eq > 0) fields[word.substr(0, eq)] = word.substr(eq + 1);
  }
  if (fields.empty()) return std::nullopt;  // e.g. "raftkv stats: not initialised"
  return fields;
}

NodeStatsSummary summarize_stats(const std::vector<StatsSample>& samples, int64_t from_ns,
                                 int64_t to_ns) {
  NodeStatsSummary s;
  s.samples = static_cast<int>(samples.size());
  if (samples.empty()) return s;
  s.last = samples.back().fields;
  auto rates = [&](int64_t from, int64_t to) {
    s.span_s = s.syncs = s.entries = s.commits = 0;
    const StatsSample* first = nullptr;
    const StatsSample* prev = nullptr;
    auto close_run = [&] {
      if (!first || first == prev) return;
      s.span_s += (prev->t_ns - first->t_ns) / 1e9;
      s.syncs += field_int(prev->fields, "syncs") - field_int(first->fields, "syncs");
      s.entries +=
          field_int(prev->fields, "synced_entries") - field_int(first->fields, "synced_entries");
      s.commits += field_int(prev->fields, "commit") - field_int(first->fields, "commit");
    };
    for (const auto& x : samples) {
      if (x.t_ns < from || x.t_ns > to) continue;
      if (prev && prev->generation != x.generation) {
        close_run();
        first = nullptr;
      }
      if (!first) first = &x;
      prev = &x;
    }
    close_run();
    return s.span_s > 0;
  };
  s.windowed = rates(from_ns, to_ns);
  if (!s.windowed) rates(INT64_MIN, INT64_MAX);
  // Whole-run totals: the last line of each process generation.
  for (size_t i = 0; i < samples.size(); ++i) {
    if (i + 1 == samples.size() || samples[i + 1].generation != samples[i].generation) {
      s.total_syncs += field_int(samples[i].fields, "syncs");
      s.total_entries += field_int(samples[i].fields, "synced_entries");
    }
  }
  std::map<std::string, int> roles;
  for (const auto& x : samples) {
    bool in = s.windowed ? x.t_ns >= from_ns && x.t_ns <= to_ns : true;
    auto it = x.fields.find("role");
    if (in && it != x.fields.end()) ++roles[it->second];
  }
  int best = 0;
  for (const auto& [role, n] : roles)
    if (n > best) best = n, s.role = role;
  s.leader_samples = roles["leader"];
  return s;
}

}  // namespace runner

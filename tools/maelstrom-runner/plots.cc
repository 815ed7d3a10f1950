#include "plots.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "stats.h"

namespace runner {
namespace {

namespace fs = std::filesystem;

std::string find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    std::string dir = p.substr(start, end == std::string::npos ? end : end - start);
    fs::path cand = fs::path(dir.empty() ? "." : dir) / name;
    if (access(cand.c_str(), X_OK) == 0) return cand.string();
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

// Runs a command with output to a log file; returns its exit status.
int run(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = fopen(log.c_str(), "w");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  if (pid < 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Period {
  double from, to;
  std::string kind;
};

// Pairs start-X/stop-X nemesis events into shaded periods.
std::vector<Period> nemesis_periods(const HistoryLog& h, double end_s) {
  std::vector<Period> out;
  std::map<std::string, double> open;
  for (const auto& e : h.nemesis_events()) {
    double t = e.time / 1e9;
    std::string kind = e.f.substr(e.f.find('-') + 1);
    if (e.f.rfind("start-", 0) == 0) {
      open[kind] = t;
    } else if (open.count(kind)) {
      out.push_back({open[kind], t, kind});
      open.erase(kind);
    }
  }
  for (auto& [kind, t] : open) out.push_back({t, end_s, kind});
  return out;
}

std::string shading(const std::vector<Period>& periods) {
  static const std::map<std::string, std::string> colour{
      {"partition", "#f4a6a6"}, {"kill", "#b0b0b0"}, {"pause", "#a6c8f4"}, {"member", "#c9a0f0"}};
  std::string out;
  int n = 1;
  for (const auto& p : periods) {
    out += fmt::format(
        "set object {} rect from {:.3f}, graph 0 to {:.3f}, graph 1 fc rgb '{}' "
        "fs transparent solid 0.35 noborder behind\n",
        n++, p.from, p.to, colour.count(p.kind) ? colour.at(p.kind) : "#dddddd");
  }
  return out;
}

// Membership changes take milliseconds, too short to shade: a dashed purple
// line per change, changes closer than min_gap_s sharing one, labelled with
// what changed per node, e.g. "add/promote n4, add/promote n5" or
// "remove n1 (refused)".
std::string member_marks(const HistoryLog& h, double min_gap_s) {
  struct Mark {
    double t;
    std::vector<std::pair<std::string, std::string>> changes;  // node, ops
  };
  std::vector<Mark> marks;
  for (const auto& e : h.nemesis_events()) {
    if (e.f != "stop-member" || !e.value.is_object()) continue;
    std::string op = e.value.value("op", "");
    if (op.rfind("member_", 0) == 0) op = op.substr(7);
    if (op == "transfer_leader") op = "lead";
    std::string outcome = e.value.value("outcome", "ok");
    if (outcome != "ok") op += " (" + outcome + ")";
    std::string node = e.value.value("node", "");
    double t = e.time / 1e9;
    if (marks.empty() || t - marks.back().t >= min_gap_s) marks.push_back({t, {}});
    auto& changes = marks.back().changes;
    auto it = std::find_if(changes.begin(), changes.end(),
                           [&](const auto& c) { return c.first == node; });
    if (it == changes.end())
      changes.emplace_back(node, op);
    else
      it->second += "/" + op;
  }
  std::string out;
  int n = 100;  // clear of the shading's object numbers
  for (const auto& m : marks) {
    std::vector<std::string> parts;
    for (const auto& [node, ops] : m.changes) parts.push_back(ops + " " + node);
    out += fmt::format(
        "set arrow {0} from {1:.3f}, graph 0 to {1:.3f}, graph 1 nohead lc rgb '#8a2be2' dt 2\n"
        "set label {0} \"{2}\" at {1:.3f}, graph 0.98 right rotate by 90 offset -0.3,0 "
        "font ',8' tc rgb '#8a2be2'\n",
        n++, m.t, fmt::join(parts, ", "));
  }
  return out;
}

std::string terminal(const std::string& gnuplot, const std::string& dir) {
  std::string probe = dir + "/.terminals";
  { std::ofstream(dir + "/.probe.gp") << "set terminal\n"; }
  run({gnuplot, dir + "/.probe.gp"}, probe);
  std::ifstream in(probe);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  fs::remove(probe);
  fs::remove(dir + "/.probe.gp");
  return all.find("pngcairo") != std::string::npos ? "pngcairo" : "png";
}

}  // namespace

bool write_plots(const std::string& dir, const HistoryLog& history, double time_limit_s,
                 std::string* warning) {
  std::string gnuplot = find_in_path("gnuplot");
  if (gnuplot.empty()) {
    *warning = "gnuplot not found; skipping plots (apt-get install gnuplot-nox)";
    return false;
  }
  std::string data = dir + "/plot-data";
  fs::create_directories(data);

  double end_s = time_limit_s;
  std::map<std::string, std::ofstream> raw;
  std::map<std::string, int64_t> raw_count;
  for (const char* t : {"ok", "info", "fail"})
    raw[t].open(fmt::format("{}/latency-{}.dat", data, t));
  // Buckets of ~1/60 of the run (at least 1 s) for quantiles and rates.
  double bucket = std::max(1.0, time_limit_s / 60.0);
  std::map<int64_t, std::vector<double>> lat_by_bucket;
  std::map<int64_t, std::map<std::string, int64_t>> rate_by_bucket;
  for (const auto& op : history.ops()) {
    if (op.complete_ns < 0) continue;
    double t = op.invoke_ns / 1e9;
    double lat_ms = (op.complete_ns - op.invoke_ns) / 1e6;
    std::string type = lin::to_string(op.type);
    end_s = std::max(end_s, op.complete_ns / 1e9);
    ++raw_count[type];
    raw[type] << fmt::format("{:.6f} {:.3f} {}\n", t, std::max(lat_ms, 0.001),
                             lin::to_string(op.f));
    auto b = static_cast<int64_t>(op.complete_ns / 1e9 / bucket);
    if (op.type == lin::EventType::kOk) lat_by_bucket[b].push_back(lat_ms);
    ++rate_by_bucket[b][type];
  }
  for (auto& [t, f] : raw) f.close();
  {
    std::ofstream q(data + "/quantiles.dat");
    for (auto& [b, v] : lat_by_bucket) {
      std::sort(v.begin(), v.end());
      q << fmt::format("{:.3f} {:.3f} {:.3f} {:.3f} {:.3f}\n", (b + 0.5) * bucket, quantile(v, 0.5),
                       quantile(v, 0.95), quantile(v, 0.99), v.back());
    }
    std::ofstream r(data + "/rate.dat");
    for (auto& [b, m] : rate_by_bucket) {
      r << fmt::format("{:.3f} {:.3f} {:.3f} {:.3f}\n", (b + 0.5) * bucket, m["ok"] / bucket,
                       m["info"] / bucket, m["fail"] / bucket);
    }
  }

  std::string shade = shading(nemesis_periods(history, end_s)) + member_marks(history, end_s / 100);
  std::string term = terminal(gnuplot, dir);
  std::string common = fmt::format(
      "set terminal {} size 1200,500\n"
      "set xlabel 'time (s)'\nset xrange [0:{:.3f}]\nset grid\nset key outside right\n"
      "set label 1 'shaded: partition (red), kill (grey), pause (blue); dashed: membership "
      "change' at screen 0.01, screen 0.97 font ',8'\n"
      "{}",
      term, end_s, shade);
  std::string script = common;
  // gnuplot stops at an empty data file, so only existing series are plotted.
  static const std::map<std::string, std::string> colour{
      {"ok", "#2a9d2a"}, {"info", "#e0a000"}, {"fail", "#d03030"}};
  std::vector<std::string> series;
  for (const char* t : {"ok", "info", "fail"}) {
    if (raw_count[t] == 0) continue;
    series.push_back(
        fmt::format("'{}/latency-{}.dat' using 1:2 with points pt 7 ps 0.4 lc rgb '{}' "
                    "title '{}'",
                    data, t, colour.at(t), t));
  }
  if (series.empty()) {
    *warning = "no completed operations; nothing to plot";
    return false;
  }
  script += fmt::format(
      "set output '{}/latency-raw.png'\nset title 'Latency of every operation'\n"
      "set ylabel 'latency (ms)'\nset logscale y\nplot {}\n",
      dir, fmt::join(series, ", "));
  if (!lat_by_bucket.empty()) {
    script += fmt::format(
        "set output '{0}/latency-quantiles.png'\nset title 'Latency quantiles of ok operations'\n"
        "plot '{1}/quantiles.dat' using 1:2 with linespoints title 'p50', "
        "'' using 1:3 with linespoints title 'p95', '' using 1:4 with linespoints title 'p99', "
        "'' using 1:5 with linespoints title 'max'\n",
        dir, data);
  }
  script += fmt::format(
      "set output '{0}/rate.png'\nset title 'Throughput (completions per second)'\n"
      "unset logscale y\nset ylabel 'ops/s'\nset yrange [0:*]\n"
      "plot '{1}/rate.dat' using 1:2 with lines lw 2 lc rgb '#2a9d2a' title 'ok', "
      "'' using 1:3 with lines lw 2 lc rgb '#e0a000' title 'info', "
      "'' using 1:4 with lines lw 2 lc rgb '#d03030' title 'fail'\n",
      dir, data);
  std::string script_path = data + "/plots.gp";
  std::ofstream(script_path) << script;
  int rc = run({gnuplot, script_path}, data + "/gnuplot.log");
  if (rc != 0) {
    *warning = fmt::format("gnuplot failed (exit {}); see {}/gnuplot.log", rc, data);
    return false;
  }
  return true;
}

}  // namespace runner

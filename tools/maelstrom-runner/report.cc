// Assembles the self-contained HTML report: a static header (verdict and
// summary, readable even without scripts), the plots as data: URIs, and the
// data the inline script (report_assets/report.js) draws the timeline,
// anomalies and message diagram from.
#include "report.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "report_assets.h"

namespace runner {

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = uint8_t(in[i]) << 16 | uint8_t(in[i + 1]) << 8 | uint8_t(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += t[(n >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16 | (i + 1 < in.size() ? uint8_t(in[i + 1]) << 8 : 0);
    out += t[(n >> 18) & 63];
    out += t[(n >> 12) & 63];
    out += i + 1 < in.size() ? t[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// JSON inside <script>: "</" would end the element; "<\/" is the same string.
std::string script_safe(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    if (s[i] == '<' && i + 1 < s.size() && s[i + 1] == '/') out += '\\';
  }
  return out;
}

double num(const json& j, std::initializer_list<const char*> path) {
  const json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return 0;
    p = &(*p)[k];
  }
  return p->is_number() ? p->get<double>() : 0;
}

std::string verdict_word(const json& v) {
  if (v.is_boolean()) return v.get<bool>() ? "valid" : "invalid";
  return v.is_string() ? v.get<std::string>() : "unknown";
}

// ["n1","n2"] -> "n1,n2"
std::string text_of_list(const json& list) {
  std::string out;
  for (const auto& e : list) {
    if (!e.is_string()) continue;
    if (!out.empty()) out += ',';
    out += e.get<std::string>();
  }
  return out;
}

}  // namespace

std::vector<std::string> summarize_results(const json& r) {
  std::vector<std::string> out;
  if (!r.is_object()) return out;
  const json& o = r.value("options", json::object());
  auto nodes = o.value("nodes", json::array());
  std::string nemesis = "no faults";
  if (o.contains("nemesis") && !o["nemesis"].empty()) {
    nemesis = "faults: ";
    for (const auto& n : o["nemesis"]) nemesis += n.get<std::string>() + " ";
    nemesis += fmt::format("(every ~{} s)", num(o, {"nemesis-interval"}));
  }
  if (o.contains("member-plan"))
    nemesis += fmt::format(", {} planned membership changes", o["member-plan"].size());
  out.push_back(
      fmt::format("Workload {} on {} nodes of {}, concurrency {}, {} s at {} req/s, {}, "
                  "seed {}.",
                  o.value("workload", "?"), nodes.size(), o.value("bin", "?"),
                  num(o, {"concurrency"}), num(o, {"time-limit"}), num(o, {"rate"}), nemesis,
                  o.contains("seed") ? o["seed"].dump() : "?"));
  out.push_back(
      fmt::format("{} operations: {} ok, {} info (outcome unknown), {} fail; {:.1f}% of them ok.",
                  num(r, {"stats", "ops"}), num(r, {"stats", "ok"}), num(r, {"stats", "info"}),
                  num(r, {"stats", "fail"}), 100 * num(r, {"availability", "ok-fraction"})));
  out.push_back(fmt::format(
      "Throughput {:.1f} ok/s over {:.1f} s; latency of ok ops p50 {:.1f} ms, "
      "p99 {:.1f} ms, max {:.1f} ms.",
      num(r, {"throughput", "ok-per-s"}), num(r, {"throughput", "duration-s"}),
      num(r, {"latency-ms", "p50"}), num(r, {"latency-ms", "p99"}), num(r, {"latency-ms", "max"})));
  const json& lin = r.value("linearizability", json::object());
  size_t invalid = 0, unknown = 0;
  for (const auto& k : lin.value("keys", json::array())) {
    std::string v = verdict_word(k.value("valid?", json()));
    invalid += v == "invalid";
    unknown += v == "unknown";
  }
  out.push_back(
      fmt::format("Linearizability: {} ({} keys, {} invalid, {} unknown; checked in "
                  "{:.2f} s).",
                  verdict_word(lin.value("valid?", json())), num(lin, {"key-count"}), invalid,
                  unknown, num(lin, {"checker-seconds"})));
  if (r.contains("availability") && r["availability"].contains("required"))
    out.push_back(fmt::format("Availability {:.3f} against the required {:.3f}: {}.",
                              num(r, {"availability", "ok-fraction"}),
                              num(r, {"availability", "required"}),
                              r["availability"].value("valid?", false) ? "met" : "NOT met"));
  out.push_back(
      fmt::format("Messages: {} server-to-server, {} client; {:.2f} server messages per "
                  "op; {} dropped by partitions, {} to a down node.",
                  num(r, {"net", "server-msgs"}), num(r, {"net", "client-msgs"}),
                  num(r, {"net", "server-msgs-per-op"}), num(r, {"net", "dropped-partition"}),
                  num(r, {"net", "dropped-node-down"})));
  out.push_back(
      fmt::format("{} nemesis events; final reads: {} ok of {} attempts, {} key/node "
                  "pairs never read.",
                  r.value("nemesis", json::array()).size(), num(r, {"final-reads", "ok"}),
                  num(r, {"final-reads", "reads"}), num(r, {"final-reads", "unread"})));
  // A named copy: items() of a temporary would dangle inside the loop.
  if (r.contains("membership") && r["membership"].is_object()) {
    const json& m = r["membership"];
    out.push_back(fmt::format(
        "Membership: {} removed, {} promoted ({} re-added after a replacement), {} leadership "
        "transfers; final voters {}.",
        num(m, {"removed"}), num(m, {"promoted"}), num(m, {"readded"}), num(m, {"transfers"}),
        m.contains("final") ? text_of_list(m["final"].value("voters", json::array())) : "?"));
  }
  if (r.contains("availability-gap"))
    out.push_back(
        fmt::format("Longest time without an ok write or cas: {:.0f} ms ({:.2f}-{:.2f} s).",
                    num(r, {"availability-gap", "run", "longest-ms"}),
                    num(r, {"availability-gap", "run", "from-s"}),
                    num(r, {"availability-gap", "run", "to-s"})));
  const json problems = r.value("problems", json::object());
  for (const auto& [kind, p] : problems.items())
    out.push_back(fmt::format("Problem {}: {} times.", kind, num(p, {"count"})));
  return out;
}

bool write_report(const std::string& path, const ReportInput& in, std::string* error) {
  json data = report_data(in);
  std::string verdict = in.results.is_object() && in.results.contains("valid?")
                            ? verdict_word(in.results["valid?"])
                            : data["verdict"].get<std::string>();
  data["verdict"] = verdict;
  std::vector<std::string> summary =
      in.summary.empty() ? summarize_results(in.results) : in.summary;

  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width\">\n";
  h += "<title>" + html_escape(verdict + " · " + in.title) + "</title>\n<style>\n";
  h += kReportCss;
  h += "</style></head>\n<body>\n<header>\n";
  h += fmt::format("<h1><span class=\"verdict {0}\" id=\"verdict\">{0}</span> {1}</h1>\n", verdict,
                   html_escape(in.title));
  h += "<ul class=\"summary\">\n";
  for (const auto& s : summary) h += "<li>" + html_escape(s) + "</li>\n";
  h += "</ul>\n</header>\n";
  h += "<section id=\"anomalies\"></section>\n";
  h += "<section><h2>Timeline</h2><p class=\"hint\">One row per worker; bars from invoke to "
       "completion: <span class=\"k ok\">ok</span> <span class=\"k info\">info</span> "
       "<span class=\"k fail\">fail</span> <span class=\"k pend\">never completed</span>; "
       "faults shaded. Wheel to zoom, drag to pan, hover for the operation.</p>"
       "<div class=\"tools\" id=\"timeline-tools\"></div>"
       "<div id=\"timeline-wrap\"><canvas id=\"timeline\"></canvas>"
       "<div id=\"tip\" hidden></div></div></section>\n";
  h += "<section id=\"messages\"><h2>Messages</h2></section>\n";
  std::string plots;
  for (const auto& p : in.plot_files) {
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) continue;
    plots += fmt::format(
        "<figure><img alt=\"{0}\" src=\"data:image/png;base64,{1}\">"
        "<figcaption>{0}</figcaption></figure>\n",
        html_escape(fs::path(p).filename().string()), base64(read_file(p)));
  }
  if (!plots.empty()) h += "<section id=\"plots\"><h2>Plots</h2>\n" + plots + "</section>\n";
  if (in.results.is_object())
    h += "<section><details><summary>results.json</summary><pre>" +
         html_escape(in.results.dump(2, ' ', false, json::error_handler_t::replace)) +
         "</pre></details></section>\n";
  h += "<script id=\"report-data\" type=\"application/json\">";
  h += script_safe(data.dump(-1, ' ', false, json::error_handler_t::replace));
  h += "</script>\n<script>\n";
  h += kReportJs;
  h += "</script>\n</body></html>\n";

  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << h;
    if (!out.flush()) {
      *error = "cannot write " + tmp;
      return false;
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    *error = "cannot rename " + tmp + ": " + ec.message();
    return false;
  }
  return true;
}

bool write_run_report(const std::string& run_dir, const lin::CheckReport& check,
                      const HistoryLog& history, const MessagesLog* messages,
                      const std::vector<std::string>& nodes, int concurrency, std::string* error) {
  fs::path dir(run_dir);
  ReportInput in;
  in.title = dir.parent_path().filename().string() + " " + dir.filename().string();
  in.results = json::parse(read_file((dir / "results.json").string()), nullptr, false);
  if (in.results.is_discarded()) in.results = nullptr;
  in.history = &history.events();
  in.check = &check;
  in.nemesis = history.nemesis_events();
  in.messages = messages;
  in.messages_t0_mono = -history.rel(0);
  in.nodes = nodes;
  in.lanes_modulo = concurrency;
  for (const char* p : {"latency-raw.png", "latency-quantiles.png", "rate.png"})
    in.plot_files.push_back((dir / p).string());
  in.full_messages_file = "messages.jsonl";
  return write_report((dir / "index.html").string(), in, error);
}

}  // namespace runner

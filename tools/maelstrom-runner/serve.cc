// A deliberately small HTTP/1.0-style server: one request per connection,
// GET and HEAD only, handled one at a time (a person browsing their own runs).
#include "serve.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "report.h"

namespace runner {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Percent-encodes a path for an href (keeps '/').
std::string url_path(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || std::string_view("-._~/").find(c) != std::string_view::npos)
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::optional<std::string> percent_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(uint8_t(s[i + 1])) || !std::isxdigit(uint8_t(s[i + 2])))
      return std::nullopt;
    out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
    i += 2;
  }
  return out;
}

const char* content_type(const fs::path& p) {
  std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".png") return "image/png";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".jsonl" || ext == ".log" || ext == ".txt" || ext == ".dat" || ext == ".gp" ||
      ext == ".tsv" || ext == ".csv")
    return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

std::string fmt_number(const json& j, const char* fmt_spec) {
  return j.is_number() ? fmt::format(fmt::runtime(fmt_spec), j.get<double>()) : "";
}

std::string verdict_of(const json& r) {
  if (!r.is_object() || !r.contains("valid?")) return "incomplete";
  const json& v = r["valid?"];
  if (v.is_boolean()) return v.get<bool>() ? "valid" : "invalid";
  return v.is_string() ? v.get<std::string>() : "unknown";
}

// "20250101T120000.123" -> "2025-01-01 12:00:00".
std::string run_date(const std::string& name) {
  if (name.size() < 15 || name[8] != 'T') return name;
  return fmt::format("{}-{}-{} {}:{}:{}", name.substr(0, 4), name.substr(4, 2), name.substr(6, 2),
                     name.substr(9, 2), name.substr(11, 2), name.substr(13, 2));
}

struct Run {
  std::string workload, name;
  json results;
};

std::vector<Run> list_runs(const fs::path& store) {
  std::vector<Run> runs;
  std::error_code ec;
  for (const auto& w : fs::directory_iterator(store, ec)) {
    if (w.is_symlink() || !w.is_directory()) continue;
    std::error_code ec2;
    for (const auto& r : fs::directory_iterator(w.path(), ec2)) {
      if (r.is_symlink() || !r.is_directory()) continue;
      Run run{w.path().filename().string(), r.path().filename().string(), nullptr};
      std::ifstream in(r.path() / "results.json");
      if (in) run.results = json::parse(in, nullptr, false);
      if (run.results.is_discarded()) run.results = nullptr;
      runs.push_back(std::move(run));
    }
  }
  // Run directories are named by their start time, so names sort by age.
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.name > b.name; });
  return runs;
}

const char* kStyle =
    "body{font:14px system-ui,sans-serif;margin:16px}table{border-collapse:collapse}"
    "td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:left}"
    ".valid{color:#2e7d32;font-weight:600}.invalid{color:#c62828;font-weight:600}"
    ".unknown,.incomplete{color:#777;font-weight:600}";

std::string dir_listing_html(const fs::path& dir, const std::string& rel) {
  std::string h = fmt::format(
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{0}</title><style>{1}</style>"
      "</head><body><p><a href=\"/\">all runs</a></p><h1>{0}</h1><table>",
      html_escape(rel), kStyle);
  std::vector<fs::directory_entry> entries;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) entries.push_back(e);
  std::sort(entries.begin(), entries.end());
  for (const auto& e : entries) {
    std::string name = e.path().filename().string() + (e.is_directory() ? "/" : "");
    std::error_code ec2;
    auto size = e.is_regular_file() ? e.file_size(ec2) : 0;
    h += fmt::format("<tr><td><a href=\"{}\">{}</a></td><td>{}</td></tr>",
                     url_path(fmt::format("/{}{}", rel, name)), html_escape(name),
                     e.is_regular_file() ? fmt::format("{} bytes", size) : "");
  }
  return h + "</table></body></html>\n";
}

bool send_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void respond(int fd, int code, const char* status, const char* type, const std::string& body,
             bool head) {
  std::string hdr = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nX-Content-Type-Options: "
      "nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
      code, status, type, body.size());
  if (send_all(fd, hdr.data(), hdr.size()) && !head) send_all(fd, body.data(), body.size());
}

void serve_file(int fd, const fs::path& p, bool head) {
  std::ifstream in(p, std::ios::binary);
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (!in || ec) return respond(fd, 403, "Forbidden", "text/plain", "cannot read\n", head);
  std::string hdr = fmt::format(
      "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nX-Content-Type-Options: "
      "nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
      content_type(p), size);
  if (!send_all(fd, hdr.data(), hdr.size()) || head) return;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0)
    if (!send_all(fd, buf, static_cast<size_t>(in.gcount()))) return;
}

void handle(int fd, const fs::path& root) {
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string req;
  char buf[4096];
  while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    req.append(buf, static_cast<size_t>(n));
  }
  std::istringstream line(req.substr(0, req.find("\r\n")));
  std::string method, target, version;
  line >> method >> target >> version;
  bool head = method == "HEAD";
  if (method != "GET" && !head)
    return respond(fd, 405, "Method Not Allowed", "text/plain", "read-only: GET and HEAD only\n",
                   false);
  if (target == "/" || target.rfind("/?", 0) == 0)
    return respond(fd, 200, "OK", "text/html; charset=utf-8", store_index_html(root.string()),
                   head);
  auto path = resolve_under(root.string(), target);
  if (!path) return respond(fd, 400, "Bad Request", "text/plain", "bad path\n", head);
  std::error_code ec;
  fs::path p(*path);
  if (fs::is_directory(p, ec)) {
    std::string rel = fs::relative(p, root, ec).string() + "/";
    return respond(fd, 200, "OK", "text/html; charset=utf-8", dir_listing_html(p, rel), head);
  }
  if (!fs::is_regular_file(p, ec))
    return respond(fd, 404, "Not Found", "text/plain", "not found\n", head);
  serve_file(fd, p, head);
}

}  // namespace

std::optional<std::string> resolve_under(const std::string& root, const std::string& target) {
  std::string path = target.substr(0, target.find_first_of("?#"));
  auto decoded = percent_decode(path);
  if (!decoded || decoded->empty() || (*decoded)[0] != '/' ||
      decoded->find('\0') != std::string::npos)
    return std::nullopt;
  fs::path rel;
  std::stringstream parts(decoded->substr(1));
  for (std::string seg; std::getline(parts, seg, '/');) {
    if (seg == "..") return std::nullopt;
    if (!seg.empty() && seg != ".") rel /= seg;
  }
  std::error_code ec;
  fs::path base = fs::canonical(root, ec);
  if (ec) return std::nullopt;
  // Symlinks (such as `latest`) are followed, but must still end up inside.
  fs::path full = fs::weakly_canonical(base / rel, ec);
  if (ec) return std::nullopt;
  auto [b, f] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (b != base.end()) return std::nullopt;
  return full.string();
}

std::string store_index_html(const std::string& store) {
  std::string h = fmt::format(
      "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>maelstrom-runner runs</title>"
      "<style>{}</style></head><body><h1>Runs in {}</h1><table><tr><th>date</th><th>workload</th>"
      "<th>nodes</th><th>nemesis</th><th>verdict</th><th>ops</th><th>ok/s</th><th>report</th>"
      "<th>files</th></tr>\n",
      kStyle, html_escape(store));
  auto runs = list_runs(store);
  for (const Run& r : runs) {
    const json& res = r.results;
    const json opts = res.is_object() ? res.value("options", json::object()) : json::object();
    std::string nemesis;
    for (const auto& n : opts.value("nemesis", json::array()))
      nemesis.append(nemesis.empty() ? "" : ",")
          .append(n.is_string() ? n.get<std::string>() : n.dump());
    std::string verdict = verdict_of(res);
    std::string base = fmt::format("/{}/{}/", r.workload, r.name);
    std::error_code ec;
    bool has_report = fs::exists(fs::path(store) / r.workload / r.name / "index.html", ec);
    h += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td><a href=\"{}\">files</a></td></tr>\n",
        html_escape(run_date(r.name)), html_escape(r.workload),
        opts.value("nodes", json::array()).size(), html_escape(nemesis.empty() ? "none" : nemesis),
        verdict, verdict,
        res.is_object()
            ? fmt_number(res.value("stats", json::object()).value("ops", json()), "{:.0f}")
            : "",
        res.is_object()
            ? fmt_number(res.value("throughput", json::object()).value("ok-per-s", json()),
                         "{:.1f}")
            : "",
        has_report ? fmt::format("<a href=\"{}\">report</a>", url_path(base + "index.html")) : "",
        url_path(base));
  }
  if (runs.empty()) h += "<tr><td colspan=\"9\">no runs yet</td></tr>\n";
  return h + "</table></body></html>\n";
}

std::optional<ServeOptions> parse_serve_args(const std::vector<std::string>& args,
                                             std::string* error) {
  ServeOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    bool has_value = i + 1 < args.size();
    if ((a == "--store" || a == "--port" || a == "--bind") && !has_value) {
      *error = a + " needs a value";
      return std::nullopt;
    }
    if (a == "--store") {
      o.store = args[++i];
    } else if (a == "--bind") {
      o.bind = args[++i];
    } else if (a == "--port") {
      const std::string& v = args[++i];
      char* endp = nullptr;
      long p = std::strtol(v.c_str(), &endp, 10);
      if (v.empty() || *endp != '\0' || p < 0 || p > 65535) {
        *error = fmt::format("--port needs a number in 0..65535, got '{}'", v);
        return std::nullopt;
      }
      o.port = static_cast<int>(p);
    } else {
      *error =
          fmt::format("unknown argument '{}' (serve takes --store DIR, --port N, --bind ADDR)", a);
      return std::nullopt;
    }
  }
  return o;
}

int run_serve(const ServeOptions& opts) {
  std::error_code ec;
  if (!fs::is_directory(opts.store, ec)) {
    fmt::print(stderr, "error: store {} is not a directory\n", opts.store);
    return 2;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(opts.port));
  if (inet_pton(AF_INET, opts.bind.c_str(), &addr.sin_addr) != 1) {
    fmt::print(stderr, "error: --bind {} is not an IPv4 address\n", opts.bind);
    return 2;
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, 16) != 0) {
    fmt::print(stderr, "error: cannot listen on {}:{}: {}\n", opts.bind, opts.port,
               std::strerror(errno));
    return 2;
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  fs::path root = fs::canonical(opts.store, ec);
  fmt::print("serving {} at http://{}:{}/ (read-only; Ctrl-C stops)\n", root.string(), opts.bind,
             ntohs(addr.sin_port));
  std::fflush(stdout);
  std::signal(SIGPIPE, SIG_IGN);
  for (;;) {
    int c = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE) continue;
      fmt::print(stderr, "error: accept: {}\n", std::strerror(errno));
      return 2;
    }
    handle(c, root);
    ::close(c);
  }
}

}  // namespace runner

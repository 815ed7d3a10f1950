// libFuzzer target: a whole single-node raftkv (node n1 of cluster [n1],
// RocksDB in a fresh temporary directory) fed a byte stream. The node is
// initialised and elected first, then every input line is handed to it as
// stdin would, with a tick and a drive after each. Properties:
//  - nothing crashes, throws or trips a sanitizer;
//  - every output line is one JSON object with string src and dest and a
//    body with a string type (checked by our parser and by nlohmann's);
//  - protocol input never makes the node fail-stop (fatal() stays empty).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "maelstrom/json_text.h"
#include "maelstrom/message.h"
#include "maelstrom/node.h"

using namespace raftkv::maelstrom;
namespace fs = std::filesystem;

// Durability is not what this target checks, and a fresh RocksDB per input
// spends nearly all its time syncing and preallocating (~100 MB of WAL and
// manifest, which tmpfs backs with real pages): these definitions in the
// executable take precedence over libc's for RocksDB too, taking the target
// from ~10 to hundreds of inputs a second.
extern "C" {
int fsync(int) {
  return 0;
}
int fdatasync(int) {
  return 0;
}
int sync_file_range(int, off_t, off_t, unsigned int) {
  return 0;
}
int fallocate(int, int, off_t, off_t) {
  return 0;
}
int fallocate64(int, int, off_t, off_t) {
  return 0;
}
}

namespace {

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "PROPERTY VIOLATED: %s: %.*s\n", what,
               static_cast<int>(std::min<size_t>(detail.size(), 2000)), detail.data());
  std::abort();
}

void check_output(const std::string& line) {
  if (line.find('\n') != std::string::npos) fail("output line contains a newline", line);
  JsonParse p = parse_json(line);
  if (!p.value || !p.value->is_object()) fail("output is not a JSON object", line);
  const Json& j = *p.value;
  auto body = j.find("body");
  if (!j.contains("src") || !j["src"].is_string() || !j.contains("dest") ||
      !j["dest"].is_string() || body == j.end() || !body->is_object() || !body->contains("type") ||
      !(*body)["type"].is_string()) {
    fail("output is not a Maelstrom message", line);
  }
  if (nlohmann::json::parse(line, nullptr, false).is_discarded()) {
    fail("output is not JSON to nlohmann", line);
  }
}

std::string temp_root() {
  static std::string root = [] {
    std::string base = fs::exists("/dev/shm") ? "/dev/shm" : fs::temp_directory_path().string();
    std::string tmpl = base + "/raftkv-fuzz-XXXXXX";
    if (!::mkdtemp(tmpl.data())) std::abort();
    return tmpl;
  }();
  return root;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dir = temp_root() + "/run";
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir);
  {
    std::vector<std::string> out;
    NodeOptions opts;
    opts.data_dir = dir;
    opts.seed = 1;
    opts.election_timeout_ms = 50;  // 5 ticks: a quick election
    opts.heartbeat_ms = 10;
    opts.forward_timeout_ms = 100;
    Node node(
        opts, [&](std::string line) { out.push_back(std::move(line)); }, [] {});
    node.handle_line(
        R"({"src":"c0","dest":"n1","body":{"type":"init","msg_id":1,"node_id":"n1","node_ids":["n1"]}})");
    for (int i = 0; i < 40 && node.stats().find("role=leader") == std::string::npos; ++i) {
      node.tick();
      node.drive();
    }
    std::string_view in(reinterpret_cast<const char*>(data), size);
    while (!in.empty() && !node.fatal()) {
      size_t nl = in.find('\n');
      node.handle_line(in.substr(0, nl));
      node.tick();
      node.drive();
      if (nl == std::string_view::npos) break;
      in.remove_prefix(nl + 1);
    }
    for (int i = 0; i < 5 && !node.fatal(); ++i) {
      node.tick();
      node.drive();
    }
    if (node.fatal()) fail("protocol input made the node fail-stop", *node.fatal());
    for (const std::string& line : out) check_output(line);
  }
  fs::remove_all(dir, ec);
  return 0;
}

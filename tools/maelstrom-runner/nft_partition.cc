#include "nft_partition.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace runner {

bool parse_partition_mode(const std::string& s, PartitionMode* out) {
  if (s == "drop")
    *out = PartitionMode::kDrop;
  else if (s == "reject")
    *out = PartitionMode::kReject;
  else if (s == "mixed")
    *out = PartitionMode::kMixed;
  else
    return false;
  return true;
}

const char* to_string(PartitionMode m) {
  switch (m) {
    case PartitionMode::kDrop:
      return "drop";
    case PartitionMode::kReject:
      return "reject";
    case PartitionMode::kMixed:
      return "mixed";
  }
  return "?";
}

std::string nft_ruleset(const std::set<std::string>& sources, PartitionMode mode) {
  // "add" then "delete" removes the table whether or not it existed; the
  // whole script is one transaction, so there is never a moment with no rules.
  std::string s = fmt::format("add table inet {0}\ndelete table inet {0}\n", kNftTable);
  if (sources.empty()) return s;
  std::string set = fmt::format("{{ {} }}", fmt::join(sources, ", "));
  s += fmt::format("table inet {} {{\n  chain input {{\n", kNftTable);
  s += "    type filter hook input priority 0; policy accept;\n";
  if (mode == PartitionMode::kReject) {
    // Resets pass, so the peer's connection breaks too: without this, the
    // other side's mirror rule would swallow the reset this side sends.
    s += fmt::format("    ip saddr {} tcp flags & rst == rst accept\n", set);
    s += fmt::format("    ip saddr {} meta l4proto tcp reject with tcp reset\n", set);
  }
  s += fmt::format("    ip saddr {} drop\n", set);
  s += "  }\n}\n";
  return s;
}

}  // namespace runner

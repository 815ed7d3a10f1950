// Partitions on real sockets (--net netns): a grudge becomes one nftables
// table per server namespace that filters what the server receives from the
// peers it holds a grudge against. Two ways to cut a link:
//   drop   - packets vanish: connections hang, TCP retransmits, half-open
//            connections stay open until the partition heals;
//   reject - TCP packets are answered with a reset: connections break at
//            once and new ones are refused.
// Only peer addresses are matched, so clients are never cut off (as in the
// Maelstrom mode).
#pragma once

#include <map>
#include <set>
#include <string>

namespace runner {

enum class PartitionMode { kDrop, kReject, kMixed };

// "drop", "reject", "mixed"; false if unknown.
bool parse_partition_mode(const std::string& s, PartitionMode* out);
const char* to_string(PartitionMode m);

inline constexpr const char* kNftTable = "maelstrom_runner";

// The nft script that (atomically) replaces the runner's table in one
// namespace so that it blocks `sources` (IPv4 addresses) with `mode` (drop
// or reject). An empty set yields a script that only removes the table.
std::string nft_ruleset(const std::set<std::string>& sources, PartitionMode mode);

}  // namespace runner

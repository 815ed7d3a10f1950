#include "serve/options.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>

namespace raftkv::serve {

std::optional<net::PeerAddress> parse_address(const std::string& text, std::string* error) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    *error = fmt::format("\"{}\" is not host:port", text);
    return std::nullopt;
  }
  net::PeerAddress a;
  a.host = text.substr(0, colon);
  if (a.host == "localhost") a.host = "127.0.0.1";
  in_addr ignored{};
  if (inet_pton(AF_INET, a.host.c_str(), &ignored) != 1) {
    *error = fmt::format("\"{}\" is not an IPv4 address", a.host);
    return std::nullopt;
  }
  std::string_view port = std::string_view(text).substr(colon + 1);
  unsigned value = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || value == 0 ||
      value > 65535) {
    *error = fmt::format("\"{}\" is not a port (1-65535)", port);
    return std::nullopt;
  }
  a.port = static_cast<uint16_t>(value);
  return a;
}

std::optional<std::map<raft::NodeId, net::PeerAddress>> parse_peers(const std::string& text,
                                                                    std::string* error) {
  std::map<raft::NodeId, net::PeerAddress> peers;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      *error = fmt::format("peer \"{}\" is not id=host:port", item);
      return std::nullopt;
    }
    std::string id = item.substr(0, eq);
    auto address = parse_address(item.substr(eq + 1), error);
    if (!address) {
      *error = fmt::format("peer {}: {}", id, *error);
      return std::nullopt;
    }
    if (!peers.emplace(id, *address).second) {
      *error = fmt::format("peer {} is listed twice", id);
      return std::nullopt;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return peers;
}

}  // namespace raftkv::serve

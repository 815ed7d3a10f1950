// Builders for the replies that have a fixed shape in Redis, so the server
// fills in values and clients see what they expect.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "resp/command.h"

namespace raftkv::resp {

// The fields of HELLO's reply. Client libraries read "version" (some gate
// features on it), so it claims a Redis version whose RESP2 behaviour
// raftkv follows.
struct HelloFields {
  std::string server = "redis";
  std::string version = "7.0.0";
  int64_t id = 0;  // the connection's CLIENT ID
  std::string mode = "standalone";
  std::string role = "master";  // "replica" on a follower, if the server wants
};

// RESP2's flat form of HELLO's map: server, version, proto (2), id, mode,
// role, modules (empty array).
void append_hello_reply(std::string& out, const HelloFields& f);

// One "# Name" block of INFO's text.
struct InfoSection {
  std::string name;  // "Server", "Clients", "Raft", ...
  std::vector<std::pair<std::string, std::string>> fields;
};

// Whether INFO with these arguments asks for the section: no argument,
// "default", "all" and "everything" ask for every section; otherwise the
// names are matched case-insensitively.
bool info_wants(const Info& info, std::string_view section);

// INFO's reply: one bulk string, "# Server\r\nkey:value\r\n..." with a
// blank line between sections, only the sections `info` asks for.
void append_info_reply(std::string& out, const Info& info, const std::vector<InfoSection>& all);

}  // namespace raftkv::resp

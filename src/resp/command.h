// The commands raftkv's serve mode understands, parsed from a request's
// arguments into typed values that carry no behaviour: the server maps
// them onto its core. Parsing checks names (case-insensitive), arity,
// options and integers, and reports mistakes with Redis's wording.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace raftkv::resp {

struct Get {
  std::string key;
  bool operator==(const Get&) const = default;
};

// SET key value [NX | XX | IFEQ expected] [GET]
struct Set {
  enum class Condition : uint8_t {
    kAlways,
    kIfAbsent,   // NX
    kIfPresent,  // XX
    kIfEqual,    // IFEQ expected: only when the current value equals `expected`; a
                 // missing key is not created (Valkey 8.1 / Redis 8)
  };
  std::string key;
  std::string value;
  Condition condition = Condition::kAlways;
  std::string expected;     // kIfEqual only
  bool return_old = false;  // GET: reply the old value (or null) instead of OK
  bool operator==(const Set&) const = default;
};

struct Del {
  std::vector<std::string> keys;
  bool operator==(const Del&) const = default;
};

struct Exists {
  std::vector<std::string> keys;
  bool operator==(const Exists&) const = default;
};

// INCR, DECR, INCRBY, DECRBY: all "add delta" (DECRBY d is delta -d).
struct IncrBy {
  std::string key;
  int64_t delta = 1;
  bool operator==(const IncrBy&) const = default;
};

struct Ping {
  std::optional<std::string> message;  // PING msg replies msg as a bulk string
  bool operator==(const Ping&) const = default;
};

struct Echo {
  std::string message;
  bool operator==(const Echo&) const = default;
};

struct Quit {
  bool operator==(const Quit&) const = default;
};

// HELLO [2 [AUTH user pass] [SETNAME name]]. Only RESP2 is spoken: HELLO 3
// is refused by parse_command with NOPROTO.
struct Hello {
  std::optional<int64_t> protover;                          // 2 when given
  std::optional<std::pair<std::string, std::string>> auth;  // user, password
  std::optional<std::string> setname;
  bool operator==(const Hello&) const = default;
};

// COMMAND, COMMAND COUNT, COMMAND DOCS [name...], COMMAND INFO [name...],
// COMMAND LIST: enough introspection that redis-cli starts cleanly.
struct CommandIntrospect {
  enum class Sub : uint8_t { kAll, kCount, kDocs, kInfo, kList };
  Sub sub = Sub::kAll;
  std::vector<std::string> names;  // DOCS / INFO arguments
  bool operator==(const CommandIntrospect&) const = default;
};

struct ClientSetName {
  std::string name;  // validated: printable, no spaces; "" clears the name
  bool operator==(const ClientSetName&) const = default;
};
struct ClientGetName {
  bool operator==(const ClientGetName&) const = default;
};
struct ClientId {
  bool operator==(const ClientId&) const = default;
};
// CLIENT SETINFO LIB-NAME|LIB-VER value: clients send it on connect; reply OK.
struct ClientSetInfo {
  std::string attribute;  // "lib-name" or "lib-ver" (lower case)
  std::string value;
  bool operator==(const ClientSetInfo&) const = default;
};

// SELECT 0 (raftkv has one database; other indexes are refused at parse).
struct Select {
  int64_t db = 0;
  bool operator==(const Select&) const = default;
};

struct Info {
  std::vector<std::string> sections;  // lower case; empty = the default set
  bool operator==(const Info&) const = default;
};

struct DbSize {
  bool operator==(const DbSize&) const = default;
};

// CONFIG GET parameter...: tools such as redis-benchmark ask for Redis's
// settings; raftkv has none of them, so the reply is an empty list.
struct ConfigGet {
  std::vector<std::string> parameters;
  bool operator==(const ConfigGet&) const = default;
};

// Cluster membership (node ids are raftkv's string ids, e.g. "n4").
struct RaftMembers {
  bool operator==(const RaftMembers&) const = default;
};
struct RaftTransfer {
  std::string id;  // the node to hand leadership to
  bool operator==(const RaftTransfer&) const = default;
};
// RAFT.MEMBER ADD id host:port [LEARNER|VOTER]; VOTER when omitted, as
// etcd's `member add`.
struct RaftMemberAdd {
  std::string id;
  std::string host;
  uint16_t port = 0;
  bool learner = false;
  bool operator==(const RaftMemberAdd&) const = default;
};
struct RaftMemberPromote {
  std::string id;
  bool operator==(const RaftMemberPromote&) const = default;
};
struct RaftMemberRemove {
  std::string id;
  bool operator==(const RaftMemberRemove&) const = default;
};

using Command = std::variant<Get, Set, Del, Exists, IncrBy, Ping, Echo, Quit, Hello,
                             CommandIntrospect, ClientSetName, ClientGetName, ClientId,
                             ClientSetInfo, Select, Info, DbSize, ConfigGet, RaftMembers,
                             RaftTransfer, RaftMemberAdd, RaftMemberPromote, RaftMemberRemove>;

struct ParsedCommand {
  std::optional<Command> command;  // set on success
  // Otherwise the error reply text, code first ("ERR syntax error",
  // "NOPROTO unsupported protocol version"), for append_error.
  std::string error;
  bool ok() const { return command.has_value(); }
};

// args as RequestParser::next() yields them (args[0] is the command name).
ParsedCommand parse_command(const std::vector<std::string>& args);

}  // namespace raftkv::resp

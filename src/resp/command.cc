#include "resp/command.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <unordered_map>

#include "resp/errors.h"
#include "resp/number.h"

namespace raftkv::resp {
namespace {

using Args = std::vector<std::string>;
using Parser = ParsedCommand (*)(const Args&);

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

ParsedCommand ok(Command c) {
  return {std::move(c), {}};
}
ParsedCommand error(std::string_view text) {
  return {std::nullopt, std::string(text)};
}
ParsedCommand arity(std::string_view name) {
  return error(errors::wrong_arity(name));
}

// Redis's client-name rule: every byte printable ASCII, no space.
bool valid_client_name(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c <= '~'; });
}

ParsedCommand parse_get(const Args& a) {
  if (a.size() != 2) return arity("get");
  return ok(Get{a[1]});
}

// Applies one SET option at a[i]; advances i past its argument. Returns an
// error text, or "" when the option was taken.
std::string_view apply_set_option(const Args& a, size_t& i, Set& set) {
  std::string opt = lower(a[i]);
  auto set_condition = [&](Set::Condition c) -> std::string_view {
    if (set.condition != Set::Condition::kAlways && set.condition != c) return errors::kSyntax;
    set.condition = c;
    return {};
  };
  if (opt == "nx") return set_condition(Set::Condition::kIfAbsent);
  if (opt == "xx") return set_condition(Set::Condition::kIfPresent);
  if (opt == "ifeq") {
    if (i + 1 >= a.size()) return errors::kSyntax;
    if (set.condition == Set::Condition::kIfEqual && set.expected != a[i + 1]) {
      return errors::kSyntax;
    }
    set.expected = a[++i];
    return set_condition(Set::Condition::kIfEqual);
  }
  if (opt == "get") {
    set.return_old = true;
    return {};
  }
  if (opt == "ex" || opt == "px" || opt == "exat" || opt == "pxat" || opt == "keepttl") {
    return errors::kNoExpiry;
  }
  return errors::kSyntax;
}

ParsedCommand parse_set(const Args& a) {
  if (a.size() < 3) return arity("set");
  Set set;
  set.key = a[1];
  set.value = a[2];
  for (size_t i = 3; i < a.size(); ++i) {
    std::string_view err = apply_set_option(a, i, set);
    if (!err.empty()) return error(err);
  }
  return ok(std::move(set));
}

ParsedCommand parse_del(const Args& a) {
  if (a.size() < 2) return arity("del");
  return ok(Del{Args(a.begin() + 1, a.end())});
}

ParsedCommand parse_exists(const Args& a) {
  if (a.size() < 2) return arity("exists");
  return ok(Exists{Args(a.begin() + 1, a.end())});
}

ParsedCommand parse_incr(const Args& a) {
  if (a.size() != 2) return arity("incr");
  return ok(IncrBy{a[1], 1});
}

ParsedCommand parse_decr(const Args& a) {
  if (a.size() != 2) return arity("decr");
  return ok(IncrBy{a[1], -1});
}

ParsedCommand parse_incrby(const Args& a) {
  if (a.size() != 3) return arity("incrby");
  auto delta = parse_int64_strict(a[2]);
  if (!delta) return error(errors::kNotInteger);
  return ok(IncrBy{a[1], *delta});
}

ParsedCommand parse_decrby(const Args& a) {
  if (a.size() != 3) return arity("decrby");
  auto delta = parse_int64_strict(a[2]);
  if (!delta) return error(errors::kNotInteger);
  if (*delta == INT64_MIN) return error(errors::kDecrementOverflow);
  return ok(IncrBy{a[1], -*delta});
}

ParsedCommand parse_ping(const Args& a) {
  if (a.size() > 2) return arity("ping");
  Ping ping;
  if (a.size() == 2) ping.message = a[1];
  return ok(std::move(ping));
}

ParsedCommand parse_echo(const Args& a) {
  if (a.size() != 2) return arity("echo");
  return ok(Echo{a[1]});
}

ParsedCommand parse_quit(const Args&) {
  return ok(Quit{});
}

ParsedCommand parse_hello(const Args& a) {
  Hello hello;
  if (a.size() >= 2) {
    auto ver = parse_int64_strict(a[1]);
    if (!ver) return error("ERR Protocol version is not an integer or out of range");
    // Redis speaks 2 and 3; raftkv only RESP2, so 3 gets the same refusal
    // a client would get from a server that predates RESP3.
    if (*ver != 2) return error(errors::kNoProto);
    hello.protover = *ver;
  }
  for (size_t i = 2; i < a.size(); ++i) {
    size_t more = a.size() - 1 - i;
    std::string opt = lower(a[i]);
    if (opt == "auth" && more >= 2) {
      hello.auth = std::make_pair(a[i + 1], a[i + 2]);
      i += 2;
    } else if (opt == "setname" && more >= 1) {
      if (!valid_client_name(a[i + 1])) return error(errors::kClientName);
      hello.setname = a[++i];
    } else {
      return error("ERR Syntax error in HELLO option '" + a[i] + "'");
    }
  }
  return ok(std::move(hello));
}

ParsedCommand parse_command_introspect(const Args& a) {
  if (a.size() == 1) return ok(CommandIntrospect{});
  std::string sub = lower(a[1]);
  Args rest(a.begin() + 2, a.end());
  if (sub == "count") {
    if (a.size() != 2) return arity("command|count");
    return ok(CommandIntrospect{CommandIntrospect::Sub::kCount, {}});
  }
  if (sub == "docs") return ok(CommandIntrospect{CommandIntrospect::Sub::kDocs, std::move(rest)});
  if (sub == "info") return ok(CommandIntrospect{CommandIntrospect::Sub::kInfo, std::move(rest)});
  // LIST's FILTERBY options are accepted and ignored: the list is short.
  if (sub == "list") return ok(CommandIntrospect{CommandIntrospect::Sub::kList, {}});
  return error(errors::unknown_subcommand(a[0], a[1]));
}

ParsedCommand parse_client(const Args& a) {
  if (a.size() < 2) return arity("client");
  std::string sub = lower(a[1]);
  if (sub == "setname") {
    if (a.size() != 3) return arity("client|setname");
    if (!valid_client_name(a[2])) return error(errors::kClientName);
    return ok(ClientSetName{a[2]});
  }
  if (sub == "getname") {
    if (a.size() != 2) return arity("client|getname");
    return ok(ClientGetName{});
  }
  if (sub == "id") {
    if (a.size() != 2) return arity("client|id");
    return ok(ClientId{});
  }
  if (sub == "setinfo") {
    if (a.size() != 4) return arity("client|setinfo");
    std::string attr = lower(a[2]);
    if (attr != "lib-name" && attr != "lib-ver") {
      return error("ERR Unrecognized option '" + a[2] + "'");
    }
    if (!valid_client_name(a[3])) {
      return error("ERR " + a[2] + " cannot contain spaces, newlines or special characters.");
    }
    return ok(ClientSetInfo{attr, a[3]});
  }
  return error(errors::unknown_subcommand(a[0], a[1]));
}

ParsedCommand parse_select(const Args& a) {
  if (a.size() != 2) return arity("select");
  auto db = parse_int64_strict(a[1]);
  if (!db || *db < INT32_MIN || *db > INT32_MAX) return error(errors::kNotInteger);
  if (*db != 0) return error(errors::kDbIndex);
  return ok(Select{0});
}

ParsedCommand parse_info(const Args& a) {
  Info info;
  for (size_t i = 1; i < a.size(); ++i) info.sections.push_back(lower(a[i]));
  return ok(std::move(info));
}

ParsedCommand parse_dbsize(const Args& a) {
  if (a.size() != 1) return arity("dbsize");
  return ok(DbSize{});
}

ParsedCommand parse_config(const Args& a) {
  if (a.size() < 2) return arity("config");
  if (lower(a[1]) != "get") return error(errors::unknown_subcommand(a[0], a[1]));
  if (a.size() < 3) return arity("config|get");
  return ok(ConfigGet{std::vector<std::string>(a.begin() + 2, a.end())});
}

ParsedCommand parse_raft_members(const Args& a) {
  if (a.size() != 1) return arity("raft.members");
  return ok(RaftMembers{});
}

bool valid_node_id(std::string_view id) {
  return !id.empty() && valid_client_name(id);
}

ParsedCommand invalid_node_id(std::string_view id) {
  return error("ERR invalid node id '" + std::string(id) +
               "': expected printable characters without spaces");
}

ParsedCommand parse_raft_transfer(const Args& a) {
  if (a.size() != 2) return arity("raft.transfer");
  if (!valid_node_id(a[1])) return invalid_node_id(a[1]);
  return ok(RaftTransfer{a[1]});
}

// host:port with the port after the last ':' (so "[::1]:7001" keeps its
// brackets in host, for the caller's resolver).
bool split_address(std::string_view addr, std::string& host, uint16_t& port) {
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  auto p = parse_int64_strict(addr.substr(colon + 1));
  if (!p || *p < 1 || *p > 65535) return false;
  host = std::string(addr.substr(0, colon));
  port = static_cast<uint16_t>(*p);
  return valid_client_name(host);
}

ParsedCommand parse_raft_member_add(const Args& a) {
  if (a.size() != 4 && a.size() != 5) return arity("raft.member|add");
  if (!valid_node_id(a[2])) return invalid_node_id(a[2]);
  RaftMemberAdd add;
  add.id = a[2];
  if (!split_address(a[3], add.host, add.port)) {
    return error("ERR invalid address '" + a[3] + "': expected host:port");
  }
  if (a.size() == 5) {
    std::string role = lower(a[4]);
    if (role != "learner" && role != "voter") return error(errors::kSyntax);
    add.learner = role == "learner";
  }
  return ok(std::move(add));
}

ParsedCommand parse_raft_member(const Args& a) {
  if (a.size() < 2) return arity("raft.member");
  std::string sub = lower(a[1]);
  if (sub == "add") return parse_raft_member_add(a);
  if (sub != "promote" && sub != "remove") return error(errors::unknown_subcommand(a[0], a[1]));
  if (a.size() != 3) return arity("raft.member|" + sub);
  if (!valid_node_id(a[2])) return invalid_node_id(a[2]);
  if (sub == "promote") return ok(RaftMemberPromote{a[2]});
  return ok(RaftMemberRemove{a[2]});
}

const std::unordered_map<std::string, Parser>& parsers() {
  static const std::unordered_map<std::string, Parser> table = {
      {"get", parse_get},
      {"set", parse_set},
      {"del", parse_del},
      {"exists", parse_exists},
      {"incr", parse_incr},
      {"decr", parse_decr},
      {"incrby", parse_incrby},
      {"decrby", parse_decrby},
      {"ping", parse_ping},
      {"echo", parse_echo},
      {"quit", parse_quit},
      {"hello", parse_hello},
      {"command", parse_command_introspect},
      {"client", parse_client},
      {"select", parse_select},
      {"info", parse_info},
      {"dbsize", parse_dbsize},
      {"config", parse_config},
      {"raft.members", parse_raft_members},
      {"raft.transfer", parse_raft_transfer},
      {"raft.member", parse_raft_member},
  };
  return table;
}

}  // namespace

ParsedCommand parse_command(const std::vector<std::string>& args) {
  if (args.empty()) return error("ERR empty command");
  auto it = parsers().find(lower(args[0]));
  if (it == parsers().end()) return error(errors::unknown_command(args));
  return it->second(args);
}

}  // namespace raftkv::resp

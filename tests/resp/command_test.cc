#include "resp/command.h"

#include <gtest/gtest.h>

#include "resp/errors.h"

namespace raftkv::resp {
namespace {

using Args = std::vector<std::string>;

Command parsed(const Args& args) {
  ParsedCommand p = parse_command(args);
  EXPECT_TRUE(p.ok()) << args[0] << ": " << p.error;
  return p.ok() ? *p.command : Command{};
}

std::string error_of(const Args& args) {
  ParsedCommand p = parse_command(args);
  EXPECT_FALSE(p.ok()) << args[0];
  return p.error;
}

Set set_of(std::string key, std::string value, Set::Condition c = Set::Condition::kAlways,
           std::string expected = "", bool get = false) {
  Set s;
  s.key = std::move(key);
  s.value = std::move(value);
  s.condition = c;
  s.expected = std::move(expected);
  s.return_old = get;
  return s;
}

TEST(ParseCommand, NamesAreCaseInsensitive) {
  EXPECT_EQ(parsed({"get", "k"}), (Command{Get{"k"}}));
  EXPECT_EQ(parsed({"GeT", "k"}), (Command{Get{"k"}}));
  EXPECT_EQ(parsed({"raft.MEMBERS"}), (Command{RaftMembers{}}));
}

TEST(ParseCommand, Set) {
  using C = Set::Condition;
  EXPECT_EQ(parsed({"SET", "k", "v"}), (Command{set_of("k", "v")}));
  EXPECT_EQ(parsed({"SET", "k", "v", "nx"}), (Command{set_of("k", "v", C::kIfAbsent)}));
  EXPECT_EQ(parsed({"SET", "k", "v", "XX", "GET"}),
            (Command{set_of("k", "v", C::kIfPresent, "", true)}));
  EXPECT_EQ(parsed({"SET", "k", "v", "GET", "NX"}),
            (Command{set_of("k", "v", C::kIfAbsent, "", true)}));
  EXPECT_EQ(parsed({"SET", "k", "v", "IFEQ", "old"}),
            (Command{set_of("k", "v", C::kIfEqual, "old")}));
  EXPECT_EQ(parsed({"set", "k", "v", "ifeq", "", "get"}),
            (Command{set_of("k", "v", C::kIfEqual, "", true)}));
  EXPECT_EQ(parsed({"SET", "k", "v", "NX", "NX"}), (Command{set_of("k", "v", C::kIfAbsent)}));
}

TEST(ParseCommand, SetErrors) {
  EXPECT_EQ(error_of({"SET", "k"}), "ERR wrong number of arguments for 'set' command");
  EXPECT_EQ(error_of({"SET", "k", "v", "NX", "XX"}), "ERR syntax error");
  EXPECT_EQ(error_of({"SET", "k", "v", "XX", "IFEQ", "a"}), "ERR syntax error");
  EXPECT_EQ(error_of({"SET", "k", "v", "IFEQ", "a", "NX"}), "ERR syntax error");
  EXPECT_EQ(error_of({"SET", "k", "v", "IFEQ"}), "ERR syntax error");
  EXPECT_EQ(error_of({"SET", "k", "v", "BOGUS"}), "ERR syntax error");
  for (const char* opt : {"EX", "px", "EXAT", "PXAT", "KEEPTTL"}) {
    EXPECT_EQ(error_of({"SET", "k", "v", opt, "10"}), errors::kNoExpiry) << opt;
  }
}

TEST(ParseCommand, KeysAndCounters) {
  EXPECT_EQ(parsed({"DEL", "a", "b"}), (Command{Del{{"a", "b"}}}));
  EXPECT_EQ(parsed({"EXISTS", "a"}), (Command{Exists{{"a"}}}));
  EXPECT_EQ(parsed({"INCR", "n"}), (Command{IncrBy{"n", 1}}));
  EXPECT_EQ(parsed({"DECR", "n"}), (Command{IncrBy{"n", -1}}));
  EXPECT_EQ(parsed({"INCRBY", "n", "-9223372036854775808"}), (Command{IncrBy{"n", INT64_MIN}}));
  EXPECT_EQ(parsed({"DECRBY", "n", "5"}), (Command{IncrBy{"n", -5}}));
  EXPECT_EQ(error_of({"DEL"}), "ERR wrong number of arguments for 'del' command");
  EXPECT_EQ(error_of({"EXISTS"}), "ERR wrong number of arguments for 'exists' command");
  EXPECT_EQ(error_of({"INCR", "a", "b"}), "ERR wrong number of arguments for 'incr' command");
  EXPECT_EQ(error_of({"INCRBY", "n"}), "ERR wrong number of arguments for 'incrby' command");
  for (const char* bad : {"1.5", "+1", " 1", "01", "9223372036854775808", "", "x"}) {
    EXPECT_EQ(error_of({"INCRBY", "n", bad}), errors::kNotInteger) << bad;
  }
  EXPECT_EQ(error_of({"DECRBY", "n", "-9223372036854775808"}), "ERR decrement would overflow");
}

TEST(ParseCommand, UnknownCommandLikeRedis) {
  EXPECT_EQ(error_of({"FOO", "a", "b"}),
            "ERR unknown command 'FOO', with args beginning with: 'a' 'b' ");
  EXPECT_EQ(error_of({"foo"}), "ERR unknown command 'foo', with args beginning with: ");
  // Like Redis: each argument is cut to the room left of 128 bytes (103 used
  // after the first), and listing stops at 128.
  std::string a100(100, 'a'), b100(100, 'b');
  EXPECT_EQ(error_of({"x", a100, b100, "c"}),
            "ERR unknown command 'x', with args beginning with: '" + a100 + "' '" +
                std::string(25, 'b') + "' ");
  EXPECT_EQ(error_of({std::string(200, 'n')}),
            "ERR unknown command '" + std::string(128, 'n') + "', with args beginning with: ");
}

TEST(ParseCommand, ConnectionCommands) {
  EXPECT_EQ(parsed({"PING"}), (Command{Ping{}}));
  EXPECT_EQ(parsed({"PING", "hi"}), (Command{Ping{"hi"}}));
  EXPECT_EQ(error_of({"PING", "a", "b"}), "ERR wrong number of arguments for 'ping' command");
  EXPECT_EQ(parsed({"ECHO", "x"}), (Command{Echo{"x"}}));
  EXPECT_EQ(error_of({"ECHO"}), "ERR wrong number of arguments for 'echo' command");
  EXPECT_EQ(parsed({"QUIT"}), (Command{Quit{}}));
  EXPECT_EQ(parsed({"SELECT", "0"}), (Command{Select{0}}));
  EXPECT_EQ(error_of({"SELECT", "1"}), "ERR DB index is out of range");
  EXPECT_EQ(error_of({"SELECT", "x"}), errors::kNotInteger);
  EXPECT_EQ(parsed({"INFO"}), (Command{Info{}}));
  EXPECT_EQ(parsed({"INFO", "Server", "RAFT"}), (Command{Info{{"server", "raft"}}}));
  EXPECT_EQ(parsed({"DBSIZE"}), (Command{DbSize{}}));
  EXPECT_EQ(parsed({"config", "GET", "save", "appendonly"}),
            (Command{ConfigGet{{"save", "appendonly"}}}));
  EXPECT_EQ(error_of({"CONFIG", "SET", "save", ""}),
            "ERR unknown subcommand 'SET'. Try CONFIG HELP.");
  EXPECT_EQ(error_of({"CONFIG", "GET"}), "ERR wrong number of arguments for 'config|get' command");
}

TEST(ParseCommand, Hello) {
  EXPECT_EQ(parsed({"HELLO"}), (Command{Hello{}}));
  Hello h;
  h.protover = 2;
  EXPECT_EQ(parsed({"HELLO", "2"}), (Command{h}));
  h.auth = std::make_pair("default", "pw");
  h.setname = "app";
  EXPECT_EQ(parsed({"hello", "2", "auth", "default", "pw", "SETNAME", "app"}), (Command{h}));
  EXPECT_EQ(error_of({"HELLO", "3"}), "NOPROTO unsupported protocol version");
  EXPECT_EQ(error_of({"HELLO", "1"}), "NOPROTO unsupported protocol version");
  EXPECT_EQ(error_of({"HELLO", "two"}), "ERR Protocol version is not an integer or out of range");
  EXPECT_EQ(error_of({"HELLO", "2", "AUTH", "u"}), "ERR Syntax error in HELLO option 'AUTH'");
  EXPECT_EQ(error_of({"HELLO", "2", "SETNAME", "a b"}), errors::kClientName);
}

TEST(ParseCommand, CommandIntrospection) {
  using S = CommandIntrospect::Sub;
  EXPECT_EQ(parsed({"COMMAND"}), (Command{CommandIntrospect{}}));
  EXPECT_EQ(parsed({"COMMAND", "COUNT"}), (Command{CommandIntrospect{S::kCount, {}}}));
  EXPECT_EQ(parsed({"COMMAND", "DOCS"}), (Command{CommandIntrospect{S::kDocs, {}}}));
  EXPECT_EQ(parsed({"command", "docs", "get"}), (Command{CommandIntrospect{S::kDocs, {"get"}}}));
  EXPECT_EQ(parsed({"COMMAND", "INFO", "get"}), (Command{CommandIntrospect{S::kInfo, {"get"}}}));
  EXPECT_EQ(error_of({"COMMAND", "nope"}), "ERR unknown subcommand 'nope'. Try COMMAND HELP.");
  EXPECT_EQ(error_of({"COMMAND", "COUNT", "x"}),
            "ERR wrong number of arguments for 'command|count' command");
}

TEST(ParseCommand, Client) {
  EXPECT_EQ(parsed({"CLIENT", "SETNAME", "app-1"}), (Command{ClientSetName{"app-1"}}));
  EXPECT_EQ(parsed({"CLIENT", "SETNAME", ""}), (Command{ClientSetName{""}}));
  EXPECT_EQ(parsed({"client", "getname"}), (Command{ClientGetName{}}));
  EXPECT_EQ(parsed({"CLIENT", "ID"}), (Command{ClientId{}}));
  EXPECT_EQ(parsed({"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}),
            (Command{ClientSetInfo{"lib-name", "redis-py"}}));
  EXPECT_EQ(parsed({"CLIENT", "SETINFO", "lib-ver", "5.0.1"}),
            (Command{ClientSetInfo{"lib-ver", "5.0.1"}}));
  EXPECT_EQ(error_of({"CLIENT", "SETINFO", "color", "red"}), "ERR Unrecognized option 'color'");
  EXPECT_EQ(error_of({"CLIENT", "SETNAME", "a b"}), errors::kClientName);
  EXPECT_EQ(error_of({"CLIENT", "SETNAME", "a\n"}), errors::kClientName);
  EXPECT_EQ(error_of({"CLIENT", "SETNAME"}),
            "ERR wrong number of arguments for 'client|setname' command");
  EXPECT_EQ(error_of({"CLIENT"}), "ERR wrong number of arguments for 'client' command");
  EXPECT_EQ(error_of({"CLIENT", "KILL"}), "ERR unknown subcommand 'KILL'. Try CLIENT HELP.");
}

TEST(ParseCommand, Raft) {
  EXPECT_EQ(parsed({"RAFT.MEMBERS"}), (Command{RaftMembers{}}));
  EXPECT_EQ(parsed({"RAFT.TRANSFER", "n2"}), (Command{RaftTransfer{"n2"}}));
  EXPECT_EQ(parsed({"RAFT.MEMBER", "ADD", "n4", "127.0.0.1:7004"}),
            (Command{RaftMemberAdd{"n4", "127.0.0.1", 7004, false}}));
  EXPECT_EQ(parsed({"raft.member", "add", "n5", "db5.local:7005", "learner"}),
            (Command{RaftMemberAdd{"n5", "db5.local", 7005, true}}));
  EXPECT_EQ(parsed({"RAFT.MEMBER", "ADD", "n6", "[::1]:7006", "VOTER"}),
            (Command{RaftMemberAdd{"n6", "[::1]", 7006, false}}));
  EXPECT_EQ(parsed({"RAFT.MEMBER", "PROMOTE", "n5"}), (Command{RaftMemberPromote{"n5"}}));
  EXPECT_EQ(parsed({"RAFT.MEMBER", "REMOVE", "n1"}), (Command{RaftMemberRemove{"n1"}}));

  EXPECT_EQ(error_of({"RAFT.MEMBERS", "x"}),
            "ERR wrong number of arguments for 'raft.members' command");
  EXPECT_EQ(error_of({"RAFT.TRANSFER"}),
            "ERR wrong number of arguments for 'raft.transfer' command");
  for (const char* addr : {"nohost", ":7000", "h:0", "h:65536", "h:x", "h:", "a b:1"}) {
    EXPECT_EQ(error_of({"RAFT.MEMBER", "ADD", "n4", addr}),
              "ERR invalid address '" + std::string(addr) + "': expected host:port")
        << addr;
  }
  EXPECT_EQ(error_of({"RAFT.MEMBER", "ADD", "n4", "h:1", "OBSERVER"}), "ERR syntax error");
  EXPECT_EQ(error_of({"RAFT.MEMBER", "ADD", "n4"}),
            "ERR wrong number of arguments for 'raft.member|add' command");
  EXPECT_EQ(error_of({"RAFT.MEMBER", "REMOVE"}),
            "ERR wrong number of arguments for 'raft.member|remove' command");
  EXPECT_EQ(error_of({"RAFT.MEMBER", "KICK", "n1"}),
            "ERR unknown subcommand 'KICK'. Try RAFT.MEMBER HELP.");
  EXPECT_EQ(error_of({"RAFT.TRANSFER", ""}),
            "ERR invalid node id '': expected printable characters without spaces");
}

}  // namespace
}  // namespace raftkv::resp

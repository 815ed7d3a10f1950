#include "serve/redis_session.h"

#include <fmt/format.h>

#include <variant>

#include "resp/encode.h"
#include "resp/errors.h"
#include "resp/replies.h"

namespace raftkv::serve {

using server::ClientReply;
using server::ClientRequest;
using server::ReplyCode;

// SET's conditions map one to one onto the log command's.
static_assert(static_cast<int>(resp::Set::Condition::kAlways) ==
              static_cast<int>(ClientRequest::Condition::kNone));
static_assert(static_cast<int>(resp::Set::Condition::kIfAbsent) ==
              static_cast<int>(ClientRequest::Condition::kIfAbsent));
static_assert(static_cast<int>(resp::Set::Condition::kIfPresent) ==
              static_cast<int>(ClientRequest::Condition::kIfPresent));
static_assert(static_cast<int>(resp::Set::Condition::kIfEqual) ==
              static_cast<int>(ClientRequest::Condition::kIfEqual));

void append_store_reply(std::string& out, const ClientReply& r, ReplyShape shape) {
  switch (r.code) {
    case ReplyCode::kOk:
      break;
    case ReplyCode::kKeyDoesNotExist:  // GET of an absent key
      return resp::append_null(out);
    case ReplyCode::kNotAnInteger:
      return resp::append_error(out, "ERR " + r.text);
    case ReplyCode::kUnavailable:
      return resp::append_error(out, "TRYAGAIN " + r.text);
    case ReplyCode::kIndefinite:
      return resp::append_error(out, "UNCERTAIN " + r.text);
    case ReplyCode::kPreconditionFailed:  // admin: already a member, not a learner, ...
      return resp::append_error(out, "ERR " + r.text);
  }
  switch (shape) {
    case ReplyShape::kBulk:
    case ReplyShape::kSetOld:
      if (r.value) return resp::append_bulk(out, *r.value);
      return resp::append_null(out);
    case ReplyShape::kSetOk:
      if (r.number == 1) return resp::append_simple(out, "OK");
      return resp::append_null(out);
    case ReplyShape::kInteger:
      return resp::append_integer(out, r.number);
    case ReplyShape::kAdmin:
      return resp::append_simple(out, "OK");
  }
}

std::optional<server::AdminRequest> admin_request(const resp::Command& cmd) {
  using Op = server::AdminRequest::Op;
  if (auto* add = std::get_if<resp::RaftMemberAdd>(&cmd)) {
    return server::AdminRequest{add->learner ? Op::kAddLearner : Op::kAddVoter, add->id,
                                fmt::format("{}:{}", add->host, add->port)};
  }
  if (auto* promote = std::get_if<resp::RaftMemberPromote>(&cmd)) {
    return server::AdminRequest{Op::kPromote, promote->id, {}};
  }
  if (auto* remove = std::get_if<resp::RaftMemberRemove>(&cmd)) {
    return server::AdminRequest{Op::kRemove, remove->id, {}};
  }
  if (auto* transfer = std::get_if<resp::RaftTransfer>(&cmd)) {
    return server::AdminRequest{Op::kTransferLeader, transfer->id, {}};
  }
  return std::nullopt;
}

RedisSession::RedisSession(uint64_t client_id, SessionHost& host, resp::ParseLimits limits)
    : id_(client_id), host_(host), parser_(limits) {}

void RedisSession::feed(std::string_view bytes) {
  if (stopped_) return;
  parser_.feed(bytes);
  while (!stopped_) {
    std::optional<std::vector<std::string>> args = parser_.next();
    if (!args) break;
    handle(std::move(*args));
  }
  if (parser_.failed() && !stopped_) {
    // Redis answers the commands before the bad bytes, then the error, then closes.
    Slot& s = slots_.emplace_back();
    ++next_seq_;
    resp::append_error(s.bytes, parser_.error());
    s.done = s.close_after = true;
    stopped_ = true;
  }
  pump();
}

void RedisSession::handle(std::vector<std::string> args) {
  resp::ParsedCommand parsed = resp::parse_command(args);
  if (!parsed.ok()) {
    Slot& s = slots_.emplace_back();
    ++next_seq_;
    resp::append_error(s.bytes, parsed.error);
    s.done = true;
    return;
  }
  resp::Command& cmd = *parsed.command;
  if (auto* get = std::get_if<resp::Get>(&cmd)) {
    ClientRequest r;
    r.op = ClientRequest::Op::kRead;
    r.key = std::move(get->key);
    return to_store(ReplyShape::kBulk, std::move(r));
  }
  if (auto* set = std::get_if<resp::Set>(&cmd)) {
    ClientRequest r;
    r.op = ClientRequest::Op::kSet;
    r.key = std::move(set->key);
    r.value = std::move(set->value);
    r.from = std::move(set->expected);
    r.condition = static_cast<ClientRequest::Condition>(set->condition);
    r.return_old = set->return_old;
    return to_store(set->return_old ? ReplyShape::kSetOld : ReplyShape::kSetOk, std::move(r));
  }
  if (auto* del = std::get_if<resp::Del>(&cmd)) {
    ClientRequest r;
    r.op = ClientRequest::Op::kDelete;
    r.keys = std::move(del->keys);
    return to_store(ReplyShape::kInteger, std::move(r));
  }
  if (auto* exists = std::get_if<resp::Exists>(&cmd)) {
    ClientRequest r;
    r.op = ClientRequest::Op::kExists;
    r.keys = std::move(exists->keys);
    return to_store(ReplyShape::kInteger, std::move(r));
  }
  if (auto* incr = std::get_if<resp::IncrBy>(&cmd)) {
    ClientRequest r;
    r.op = ClientRequest::Op::kIncrBy;
    r.key = std::move(incr->key);
    r.delta = incr->delta;
    return to_store(ReplyShape::kInteger, std::move(r));
  }
  if (std::optional<server::AdminRequest> admin = admin_request(cmd)) {
    return to_admin(std::move(*admin));
  }
  Slot& s = slots_.emplace_back();
  ++next_seq_;
  s.done = true;
  local(s, cmd);
  if (s.close_after) stopped_ = true;
}

// Commands answered by this server alone.
void RedisSession::local(Slot& s, const resp::Command& cmd) {
  std::string& out = s.bytes;
  std::visit(
      [&](const auto& c) {
        using T = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<T, resp::Ping>) {
          if (c.message) return resp::append_bulk(out, *c.message);
          resp::append_simple(out, "PONG");
        } else if constexpr (std::is_same_v<T, resp::Echo>) {
          resp::append_bulk(out, c.message);
        } else if constexpr (std::is_same_v<T, resp::Quit>) {
          resp::append_simple(out, "OK");
          s.close_after = true;
        } else if constexpr (std::is_same_v<T, resp::Hello>) {
          if (c.auth) {
            return resp::append_error(
                out, "WRONGPASS raftkv has no users or passwords; connect without AUTH");
          }
          if (c.setname) name_ = *c.setname;
          resp::HelloFields f;
          f.id = static_cast<int64_t>(id_);
          f.role = host_.is_leader() ? "master" : "replica";
          resp::append_hello_reply(out, f);
        } else if constexpr (std::is_same_v<T, resp::CommandIntrospect>) {
          if (c.sub == resp::CommandIntrospect::Sub::kCount) {
            return resp::append_integer(out, std::variant_size_v<resp::Command>);
          }
          resp::append_array_header(out, 0);
        } else if constexpr (std::is_same_v<T, resp::ClientSetName>) {
          name_ = c.name;
          resp::append_simple(out, "OK");
        } else if constexpr (std::is_same_v<T, resp::ClientGetName>) {
          if (name_.empty()) return resp::append_null(out);
          resp::append_bulk(out, name_);
        } else if constexpr (std::is_same_v<T, resp::ClientId>) {
          resp::append_integer(out, static_cast<int64_t>(id_));
        } else if constexpr (std::is_same_v<T, resp::ClientSetInfo> ||
                             std::is_same_v<T, resp::Select>) {
          resp::append_simple(out, "OK");
        } else if constexpr (std::is_same_v<T, resp::Info>) {
          host_.append_info(out, c);
        } else if constexpr (std::is_same_v<T, resp::DbSize>) {
          resp::append_error(out, "ERR DBSIZE is not supported by raftkv (it keeps no key count)");
        } else if constexpr (std::is_same_v<T, resp::ConfigGet>) {
          resp::append_array_header(out, 0);  // none of Redis's settings exist here
        } else if constexpr (std::is_same_v<T, resp::RaftMembers>) {
          std::vector<std::string> lines = host_.members();
          resp::append_bulk_array(out, lines);
        } else {
          // Store and admin commands are handled before this point.
          resp::append_error(out, "ERR internal: command not routed");
        }
      },
      cmd);
}

void RedisSession::to_store(ReplyShape shape, ClientRequest request) {
  bool read = request.op == ClientRequest::Op::kRead || request.op == ClientRequest::Op::kExists;
  enqueue(shape, std::move(request), read);
}

// Admin commands order like writes (see the header).
void RedisSession::to_admin(server::AdminRequest request) {
  enqueue(ReplyShape::kAdmin, std::move(request), false);
}

void RedisSession::enqueue(ReplyShape shape, Request request, bool read) {
  uint64_t seq = next_seq_++;
  Slot& s = slots_.emplace_back();
  s.shape = shape;
  waiting_.push_back(Waiting{seq, std::move(request), read});
}

// Hands waiting commands to the core while the ordering rule allows.
void RedisSession::pump() {
  if (pumping_) return;  // a reply arrived while submitting: the loop below goes on
  pumping_ = true;
  while (!waiting_.empty()) {
    Waiting& w = waiting_.front();
    if (in_flight_ > 0 && in_flight_reads_ != w.read) break;
    in_flight_reads_ = w.read;
    ++in_flight_;
    Waiting next = std::move(w);
    waiting_.pop_front();
    if (auto* admin = std::get_if<server::AdminRequest>(&next.request)) {
      host_.submit_admin(id_, next.seq, std::move(*admin));
    } else {
      host_.submit(id_, next.seq, std::move(std::get<ClientRequest>(next.request)));
    }
  }
  pumping_ = false;
}

void RedisSession::on_reply(uint64_t seq, ClientReply reply) {
  if (seq < first_seq_ || seq >= next_seq_) return;
  Slot& s = slot(seq);
  if (s.done) return;
  append_store_reply(s.bytes, reply, s.shape);
  s.done = true;
  --in_flight_;
  pump();
}

std::string RedisSession::take_output() {
  std::string out;
  while (!slots_.empty() && slots_.front().done) {
    out += slots_.front().bytes;
    if (slots_.front().close_after) closing_ = true;
    slots_.pop_front();
    ++first_seq_;
  }
  return out;
}

}  // namespace raftkv::serve

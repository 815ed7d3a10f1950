#include "raft/membership.h"

#include <algorithm>
#include <charconv>

namespace raftkv::raft {

Membership Membership::of_voters(const std::vector<NodeId>& ids) {
  Membership m;
  for (const NodeId& id : ids) m.set(Member{id, true, {}});
  return m;
}

const Member* Membership::find(const NodeId& id) const {
  auto it = std::lower_bound(members_.begin(), members_.end(), id,
                             [](const Member& m, const NodeId& x) { return m.id < x; });
  return it != members_.end() && it->id == id ? &*it : nullptr;
}

bool Membership::is_voter(const NodeId& id) const {
  const Member* m = find(id);
  return m && m->voter;
}

bool Membership::is_learner(const NodeId& id) const {
  const Member* m = find(id);
  return m && !m->voter;
}

std::vector<NodeId> Membership::voters() const {
  std::vector<NodeId> out;
  for (const Member& m : members_) {
    if (m.voter) out.push_back(m.id);
  }
  return out;
}

std::vector<NodeId> Membership::learners() const {
  std::vector<NodeId> out;
  for (const Member& m : members_) {
    if (!m.voter) out.push_back(m.id);
  }
  return out;
}

size_t Membership::voter_count() const {
  return static_cast<size_t>(
      std::count_if(members_.begin(), members_.end(), [](const Member& m) { return m.voter; }));
}

void Membership::set(Member m) {
  auto it = std::lower_bound(members_.begin(), members_.end(), m.id,
                             [](const Member& a, const NodeId& x) { return a.id < x; });
  if (it != members_.end() && it->id == m.id) {
    *it = std::move(m);
  } else {
    members_.insert(it, std::move(m));
  }
}

void Membership::remove(const NodeId& id) {
  std::erase_if(members_, [&](const Member& m) { return m.id == id; });
}

// "M1|" then per member: <id length>:<id><'v' or 'l'><address length>:<address>.
// Length-prefixed, so ids and addresses may hold any bytes.
namespace {

constexpr std::string_view kMagic = "M1|";

void put_field(std::string& out, const std::string& s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

std::optional<std::string> get_field(std::string_view& in) {
  size_t colon = in.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 9) return std::nullopt;
  if (in[0] == '0' && colon > 1) return std::nullopt;  // one spelling per length
  size_t n = 0;
  auto [p, ec] = std::from_chars(in.data(), in.data() + colon, n);
  if (ec != std::errc() || p != in.data() + colon || n > in.size() - colon - 1) return std::nullopt;
  std::string s(in.substr(colon + 1, n));
  in.remove_prefix(colon + 1 + n);
  return s;
}

}  // namespace

std::string Membership::encode() const {
  std::string out(kMagic);
  for (const Member& m : members_) {
    put_field(out, m.id);
    out += m.voter ? 'v' : 'l';
    put_field(out, m.address);
  }
  return out;
}

std::optional<Membership> Membership::decode(std::string_view in) {
  if (!in.starts_with(kMagic)) return std::nullopt;
  in.remove_prefix(kMagic.size());
  Membership m;
  while (!in.empty()) {
    auto id = get_field(in);
    if (!id || id->empty() || in.empty() || (in[0] != 'v' && in[0] != 'l')) return std::nullopt;
    bool voter = in[0] == 'v';
    in.remove_prefix(1);
    auto address = get_field(in);
    if (!address) return std::nullopt;
    // Strictly increasing ids: one encoding per configuration.
    if (!m.members_.empty() && m.members_.back().id >= *id) return std::nullopt;
    m.members_.push_back(Member{std::move(*id), voter, std::move(*address)});
  }
  return m;
}

size_t voters_changed(const Membership& a, const Membership& b) {
  size_t n = 0;
  for (const Member& m : a.members()) n += m.voter && !b.is_voter(m.id);
  for (const Member& m : b.members()) n += m.voter && !a.is_voter(m.id);
  return n;
}

std::string to_string(const Membership& m) {
  std::string out = "voters [";
  bool first = true;
  for (const NodeId& id : m.voters()) {
    out += (first ? "" : ",") + id;
    first = false;
  }
  out += "] learners [";
  first = true;
  for (const NodeId& id : m.learners()) {
    out += (first ? "" : ",") + id;
    first = false;
  }
  return out + "]";
}

}  // namespace raftkv::raft

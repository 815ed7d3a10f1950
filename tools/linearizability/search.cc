// Lowe's just-in-time linearization search (as in Porcupine): walk a doubly
// linked list of call/return entries in real-time order; at a call, try to
// linearize that op now ("lift" its entries out of the list) and restart from
// the head; at a return whose op is not linearized yet, undo the last choice.
// Configurations (linearized set, state) already explored are memoised.
//
// Optional ops (info / never completed) have no return entry, so they never
// force backtracking and may stay unlinearized: reaching the end of the list
// means every acknowledged op was linearized.
#include "linearizability/search.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>
#include <utility>

namespace lin::detail {
namespace {

constexpr int32_t kIllegal = -2;
// A memo above this size (keys + slots, ~512 MiB) is dropped and restarted:
// the memo only prunes, so this bounds memory per searching thread on hard
// histories at the cost of repeated work.
constexpr size_t kMaxMemoWords = (size_t{512} << 20) / 8;
constexpr size_t kInitialSlots = size_t{1} << 12;

uint64_t mix64(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

int32_t apply(const Op& op, int32_t state) {
  switch (op.f) {
    case Fn::kRead:
      return state == op.a ? state : kIllegal;
    case Fn::kWrite:
      return op.a;
    case Fn::kCas:
      return state == op.a ? op.b : kIllegal;  // a is a value id, never absent
  }
  return kIllegal;
}

// The linearized set as a bitset: optional ops in the first words, then
// acknowledged ops in invoke order. Acknowledged ops get linearized roughly in
// invoke order, so their words look like 1111 [mixed] 0000; the memo key keeps
// only the mixed middle, making keys O(concurrency) instead of O(history).
class OpSet {
 public:
  OpSet(size_t optional, size_t acked)
      : optional_(optional),
        opt_words_((optional + 63) / 64),
        w_(opt_words_ + (acked + 63) / 64),
        lo_(opt_words_),
        hi_(opt_words_) {}

  void set(size_t op) {
    size_t b = bit(op), i = b / 64;
    w_[i] |= uint64_t{1} << (b % 64);
    if (i < opt_words_) return;
    while (lo_ < w_.size() && w_[lo_] == ~uint64_t{0}) ++lo_;
    hi_ = std::max(hi_, i + 1);
  }
  bool has(size_t op) const {
    size_t b = bit(op);
    return w_[b / 64] >> (b % 64) & 1;
  }
  void clear(size_t op) {
    size_t b = bit(op), i = b / 64;
    w_[i] &= ~(uint64_t{1} << (b % 64));
    if (i < opt_words_) return;
    lo_ = std::min(lo_, i);
    while (hi_ > opt_words_ && w_[hi_ - 1] == 0) --hi_;
  }
  // Canonical memo key: [state | mixed length] [lo | flag] [optional words] [mixed words].
  void key(int32_t state, bool flag, std::vector<uint64_t>* out) const {
    size_t len = hi_ > lo_ ? hi_ - lo_ : 0;
    out->clear();
    out->push_back(uint64_t{static_cast<uint32_t>(state)} | uint64_t{len} << 32);
    out->push_back(lo_ | uint64_t{flag} << 63);
    out->insert(out->end(), w_.begin(), w_.begin() + opt_words_);
    out->insert(out->end(), w_.begin() + lo_, w_.begin() + lo_ + len);
  }

 private:
  size_t bit(size_t op) const { return op < optional_ ? op : opt_words_ * 64 + op - optional_; }
  size_t optional_, opt_words_;
  std::vector<uint64_t> w_;
  size_t lo_;  // first acknowledged word that is not all ones
  size_t hi_;  // one past the last nonzero acknowledged word
};

// Open-addressing hash set of memo keys stored back to back in one arena.
class Memo {
 public:
  Memo() : slots_(kInitialSlots) {}

  // Returns false if the key was already present.
  bool insert(uint64_t hash, const std::vector<uint64_t>& key) {
    if (arena_.size() + slots_.size() * 2 > kMaxMemoWords) {
      arena_.clear();
      slots_.assign(kInitialSlots, Slot{});
      slots_.shrink_to_fit();
      count_ = 0;
    }
    size_t mask = slots_.size() - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
      Slot& s = slots_[i];
      if (s.offset == 0) break;
      const uint64_t* rec = arena_.data() + s.offset - 1;
      if (s.hash == hash && rec[0] == key[0] && std::memcmp(rec, key.data(), key.size() * 8) == 0)
        return false;
    }
    arena_.insert(arena_.end(), key.begin(), key.end());
    place(hash, arena_.size() - key.size() + 1);
    if (++count_ * 2 > slots_.size()) grow();
    return true;
  }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t offset = 0;  // into arena_, plus one; 0 = empty
  };
  void place(uint64_t hash, uint64_t offset) {
    size_t mask = slots_.size() - 1, i = hash & mask;
    while (slots_[i].offset != 0) i = (i + 1) & mask;
    slots_[i] = {hash, offset};
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.offset != 0) place(s.hash, s.offset);
  }
  std::vector<Slot> slots_;
  std::vector<uint64_t> arena_;
  size_t count_ = 0;
};

}  // namespace

SearchResult search(const std::vector<Op>& ops, size_t optional,
                    std::chrono::steady_clock::time_point deadline) {
  SearchResult r;
  const size_t n = ops.size(), acked = n - optional;

  // Entry list: node 0 is the head sentinel, m + 1 the tail sentinel.
  struct Entry {
    size_t at;  // history index, i.e. real-time order
    int32_t op;
    bool call;
  };
  std::vector<Entry> entries;
  for (size_t i = 0; i < n; ++i) {
    entries.push_back({ops[i].invoke, static_cast<int32_t>(i), true});
    if (ops[i].ok) entries.push_back({ops[i].complete, static_cast<int32_t>(i), false});
  }
  std::sort(entries.begin(), entries.end(),
            [](const Entry& x, const Entry& y) { return x.at < y.at; });
  const int32_t tail = static_cast<int32_t>(entries.size()) + 1;
  std::vector<int32_t> next(tail + 1), prev(tail + 1), entry_op(tail + 1);
  std::vector<int32_t> call_of(n), return_of(n, 0);  // 0: none
  for (int32_t e = 0; e <= tail; ++e) next[e] = e + 1, prev[e] = e - 1;
  for (size_t j = 0; j < entries.size(); ++j) {
    int32_t e = static_cast<int32_t>(j) + 1;
    entry_op[e] = entries[j].op;
    (entries[j].call ? call_of : return_of)[entries[j].op] = e;
  }
  auto unlink = [&](int32_t e) { next[prev[e]] = next[e], prev[next[e]] = prev[e]; };
  auto relink = [&](int32_t e) { next[prev[e]] = e, prev[next[e]] = e; };
  auto lift = [&](int32_t op) {
    unlink(call_of[op]);
    if (return_of[op]) unlink(return_of[op]);
  };
  auto unlift = [&](int32_t op) {  // exact reverse of lift
    if (return_of[op]) relink(return_of[op]);
    relink(call_of[op]);
  };

  std::vector<int32_t> twin(optional, -1);  // see redundant() below
  {
    std::map<std::tuple<Fn, int32_t, int32_t>, int32_t> last;
    for (size_t i = 0; i < optional; ++i) {
      auto [it, fresh] = last.try_emplace({ops[i].f, ops[i].a, ops[i].b}, i);
      if (!fresh) twin[i] = std::exchange(it->second, i);
    }
  }

  // Zobrist hashing: the set's hash is the xor of its members' random words.
  std::vector<uint64_t> zobrist(n);
  for (size_t i = 0; i < n; ++i) zobrist[i] = mix64(i + 0x9e3779b97f4a7c15ULL);

  struct Frame {
    int32_t op, state_before;
  };
  std::vector<Frame> stack;
  OpSet set(optional, acked);
  Memo memo;
  std::vector<uint64_t> key;
  int32_t state = kAbsent;
  uint64_t set_hash = 0;
  size_t acked_done = 0, best = 0;
  size_t clean = 0;  // stack[0, clean) still equals r.prefix (cheap snapshots)

  // Optional ops left out stay available forever, so any linearization can be
  // rewritten to use as few of them as possible, taking the earliest invoked of
  // identical ones. Only such minimal linearizations are searched: no optional
  // op that changes nothing, none directly overwritten by an optional write,
  // and of identical ops (twin[i] is the previous one of i's kind, or -1) the
  // earliest unlinearized one. The memo key records whether the last op was
  // optional, since that decides which ops may follow.
  auto redundant = [&](int32_t op, int32_t after) {
    if (static_cast<size_t>(op) >= optional) return false;
    if (after == state || (twin[op] >= 0 && !set.has(twin[op]))) return true;
    return ops[op].f == Fn::kWrite && !stack.empty() &&
           static_cast<size_t>(stack.back().op) < optional;
  };

  for (int32_t e = next[0];;) {
    if (acked_done == acked || e == tail) {
      r.verdict = Verdict::kValid;
      break;
    }
    if (r.steps++ % 4096 == 0 && std::chrono::steady_clock::now() >= deadline) break;
    int32_t op = entry_op[e];
    if (call_of[op] == e) {
      int32_t after = apply(ops[op], state);
      if (after != kIllegal && !redundant(op, after)) {
        set.set(op);
        uint64_t h = set_hash ^ zobrist[op];
        bool top_optional = static_cast<size_t>(op) < optional;
        set.key(after, top_optional, &key);
        if (memo.insert(mix64(h ^ mix64(static_cast<uint32_t>(after) + top_optional * 7)), key)) {
          stack.push_back({op, state});
          state = after;
          set_hash = h;
          lift(op);
          if (ops[op].ok && ++acked_done > best) {
            best = acked_done;
            r.prefix.resize(clean);
            for (size_t i = clean; i < stack.size(); ++i) r.prefix.push_back(stack[i].op);
            clean = stack.size();
            r.state = state;
          }
          e = next[0];
          continue;
        }
        set.clear(op);
      }
      e = next[e];
    } else {
      // An acknowledged op returned before being linearized: backtrack.
      if (stack.empty()) {
        r.verdict = Verdict::kInvalid;
        break;
      }
      Frame f = stack.back();
      stack.pop_back();
      clean = std::min(clean, stack.size());
      set.clear(f.op);
      set_hash ^= zobrist[f.op];
      state = f.state_before;
      if (ops[f.op].ok) --acked_done;
      unlift(f.op);
      e = next[call_of[f.op]];
    }
  }
  if (r.verdict != Verdict::kInvalid) r.prefix.clear();
  return r;
}

}  // namespace lin::detail

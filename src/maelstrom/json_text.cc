#include "maelstrom/json_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <unordered_map>
#include <vector>

namespace raftkv::maelstrom {
namespace {

using Object = Json::object_t;
using ObjectBase = Object::Container;  // ordered_map is a std::vector of pairs
using Member = ObjectBase::value_type;

bool valid_big_digits(std::string_view d) {
  size_t i = d.size() > 0 && d[0] == '-' ? 1 : 0;
  if (i >= d.size() || d[i] < '1' || d[i] > '9') return false;
  return std::all_of(d.begin() + i, d.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Builds the DOM from nlohmann's SAX events, with a depth limit, exact big
// integers, and O(1) duplicate-key lookup in large objects (ordered_map
// itself searches linearly, which a hostile object with a million members
// would turn into a quadratic parse).
class DomBuilder {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  explicit DomBuilder(int max_depth) : max_depth_(max_depth) {}

  bool null() { return value(Json(nullptr)); }
  bool boolean(bool b) { return value(Json(b)); }
  bool number_integer(number_integer_t v) { return value(Json(v)); }
  bool number_unsigned(number_unsigned_t v) { return value(Json(v)); }
  bool number_float(number_float_t v, const string_t& raw) {
    // The lexer falls back to a double only when an integer literal does
    // not fit int64/uint64: keep its digits instead.
    if (raw.find_first_of(".eE") == string_t::npos && valid_big_digits(raw)) {
      return value(make_big_integer(raw));
    }
    if (!std::isfinite(v)) return fail("a number is beyond the double range");
    return value(Json(v));
  }
  bool string(string_t& s) { return value(Json(std::move(s))); }
  bool binary(binary_t&) { return fail("binary values are not JSON"); }

  bool start_object(std::size_t) { return open(Json::object()); }
  bool start_array(std::size_t) { return open(Json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(string_t& k) {
    Frame& f = stack_.back();
    auto& members = static_cast<ObjectBase&>(f.node->get_ref<Object&>());
    if (members.size() >= kIndexFrom && f.index.empty()) {
      for (size_t i = 0; i < members.size(); ++i) f.index.emplace(members[i].first, i);
    }
    size_t at = members.size();
    if (!f.index.empty()) {
      auto [it, inserted] = f.index.emplace(k, members.size());
      at = it->second;
    } else {
      for (size_t i = 0; i < members.size(); ++i) {
        if (members[i].first == k) at = i;
      }
    }
    if (at == members.size()) members.emplace_back(std::move(k), Json());
    f.slot = &members[at].second;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    if (error_.empty()) {
      // 406: nlohmann's "number overflow" (a literal beyond the double range).
      error_ = e.id == 406 ? "a number is beyond the double range"
                           : "not valid JSON (at byte " + std::to_string(position) + ")";
    }
    return false;
  }

  std::optional<Json> root;
  const std::string& error() const { return error_; }
  int max_seen() const { return max_seen_; }
  bool too_deep() const { return too_deep_; }

 private:
  static constexpr size_t kIndexFrom = 16;
  struct Frame {
    Json* node;
    Json* slot = nullptr;  // objects: where the value of the last key goes
    std::unordered_map<std::string, size_t> index;
  };

  bool fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    return false;
  }

  // Places `v` where the next value goes; returns where it landed.
  Json* place(Json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &*root;
    }
    Frame& f = stack_.back();
    if (f.node->is_array()) {
      auto& a = f.node->get_ref<Json::array_t&>();
      a.push_back(std::move(v));
      return &a.back();
    }
    *f.slot = std::move(v);
    return f.slot;
  }

  bool value(Json v) {
    place(std::move(v));
    return true;
  }

  bool open(Json container) {
    if (static_cast<int>(stack_.size()) >= max_depth_) {
      too_deep_ = error_.empty();
      return fail("nested deeper than " + std::to_string(max_depth_) + " levels");
    }
    Json* at = place(std::move(container));
    stack_.push_back(Frame{at, nullptr, {}});
    max_seen_ = std::max(max_seen_, static_cast<int>(stack_.size()));
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  int max_depth_;
  int max_seen_ = 0;
  bool too_deep_ = false;
  std::vector<Frame> stack_;
  std::string error_;
};

// Strict UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), the same acceptance as nlohmann's decoder.
bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      n = 1, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i - 1 < n) return false;
    for (size_t k = 1; k <= n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

// Writes a JSON string exactly as nlohmann's dump does (so output bytes stay
// what they always were), without copying it into a Json first; invalid
// UTF-8 goes through nlohmann for its U+FFFD replacement rules.
void write_string(std::string& out, const std::string& s) {
  if (!valid_utf8(s)) {
    out += Json(s).dump(-1, ' ', false, Json::error_handler_t::replace);
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
  }
  out.append(s, run, s.size() - run);
  out += '"';
}

void write_scalar(std::string& out, const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      out += "null";
      return;
    case Json::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
      out += std::to_string(v.get<int64_t>());
      return;
    case Json::value_t::number_unsigned:
      out += std::to_string(v.get<uint64_t>());
      return;
    case Json::value_t::number_float:
      // Grisu2 shortest round trip, ".0" for integral values; NaN and
      // infinities (which no parse produces) as null.
      out += v.dump();
      return;
    case Json::value_t::string:
      write_string(out, v.get_ref<const std::string&>());
      return;
    case Json::value_t::binary: {
      auto digits = big_integer_digits(v);
      out += digits ? std::string(*digits) : std::string("null");
      return;
    }
    default:
      out += "null";  // discarded
      return;
  }
}

}  // namespace

JsonParse parse_json(std::string_view text, int max_depth) {
  JsonParse r;
  // nlohmann's lexer takes a NUL byte for the end of input and would accept
  // "{...}\0garbage"; no JSON text contains a raw NUL.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos) {
    r.error = "NUL byte in line (at byte " + std::to_string(nul) + ")";
    return r;
  }
  try {
    DomBuilder b(max_depth);
    bool ok = Json::sax_parse(text.begin(), text.end(), &b, Json::input_format_t::json,
                              /*strict=*/true);
    r.depth = b.max_seen();
    r.too_deep = b.too_deep();
    if (ok && b.root) {
      r.value = std::move(b.root);
    } else {
      r.error = b.error().empty() ? "not valid JSON" : b.error();
    }
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    r.value.reset();
    r.error = std::string("not valid JSON: ") + e.what();
  }
  return r;
}

void write_json(std::string& out, const Json& value, bool sorted) {
  struct Frame {
    const Json* node;
    size_t next = 0;
    std::vector<const Member*> members;  // objects
  };
  auto open = [&](const Json& v, std::vector<Frame>& stack) {
    if (!v.is_structured()) return write_scalar(out, v);
    Frame f{&v, 0, {}};
    if (v.is_object()) {
      out += '{';
      const auto& obj = static_cast<const ObjectBase&>(v.get_ref<const Object&>());
      f.members.reserve(obj.size());
      for (const Member& m : obj) f.members.push_back(&m);
      if (sorted) {
        std::stable_sort(f.members.begin(), f.members.end(),
                         [](const Member* a, const Member* b) { return a->first < b->first; });
        // A programmatic object cannot hold a key twice, but be exact anyway:
        // the last one wins, as in parsing.
        auto last =
            std::unique(f.members.rbegin(), f.members.rend(),
                        [](const Member* a, const Member* b) { return a->first == b->first; });
        f.members.erase(f.members.begin(), last.base());
      }
    } else {
      out += '[';
    }
    stack.push_back(std::move(f));
  };
  std::vector<Frame> stack;
  open(value, stack);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.node->is_object()) {
      if (f.next == f.members.size()) {
        out += '}';
        stack.pop_back();
        continue;
      }
      const Member* m = f.members[f.next++];
      if (f.next > 1) out += ',';
      write_string(out, m->first);
      out += ':';
      open(m->second, stack);  // may invalidate f
    } else {
      const auto& arr = f.node->get_ref<const Json::array_t&>();
      if (f.next == arr.size()) {
        out += ']';
        stack.pop_back();
        continue;
      }
      if (f.next > 0) out += ',';
      const Json& e = arr[f.next++];
      open(e, stack);  // may invalidate f
    }
  }
}

std::string canonical_text(const Json& value) {
  std::string out;
  write_json(out, value, /*sorted=*/true);
  return out;
}

std::optional<Json> parse_value(std::string_view text) {
  JsonParse p = parse_json(text, kMaxJsonDepth);
  return std::move(p.value);
}

bool same_value(const Json& a, const Json& b) {
  return canonical_text(a) == canonical_text(b);
}

Json make_big_integer(std::string_view digits) {
  if (!valid_big_digits(digits)) return Json();
  return Json::binary(std::vector<uint8_t>(digits.begin(), digits.end()), kBigIntegerSubtype);
}

std::optional<std::string_view> big_integer_digits(const Json& value) {
  if (!value.is_binary()) return std::nullopt;
  const Json::binary_t& b = value.get_binary();
  if (!b.has_subtype() || b.subtype() != kBigIntegerSubtype) return std::nullopt;
  std::string_view d(reinterpret_cast<const char*>(b.data()), b.size());
  if (!valid_big_digits(d)) return std::nullopt;
  return d;
}

}  // namespace raftkv::maelstrom

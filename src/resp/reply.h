// A RESP2 reply as a client sees it: simple string, error, integer, bulk
// string, null, or an array of replies (arrays nest).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace raftkv::resp {

struct Reply {
  // kNull stands for both RESP2 nulls, "$-1" and "*-1": clients treat them alike.
  enum class Type : uint8_t { kSimple, kError, kInteger, kBulk, kNull, kArray };

  Type type = Type::kNull;
  std::string str;              // kSimple, kBulk; kError: the text after '-'
  int64_t integer = 0;          // kInteger
  std::vector<Reply> elements;  // kArray

  static Reply simple(std::string s) { return {Type::kSimple, std::move(s), 0, {}}; }
  static Reply error(std::string s) { return {Type::kError, std::move(s), 0, {}}; }
  static Reply integer_of(int64_t v) { return {Type::kInteger, {}, v, {}}; }
  static Reply bulk(std::string s) { return {Type::kBulk, std::move(s), 0, {}}; }
  static Reply null() { return {}; }
  static Reply array(std::vector<Reply> items) { return {Type::kArray, {}, 0, std::move(items)}; }

  bool is_error() const { return type == Type::kError; }
  bool operator==(const Reply&) const = default;
};

// redis-cli style text for logs and test failures: "OK", "(error) ERR x",
// "(integer) 3", "\"bytes\"" (escaped), "(nil)", "[a, b]".
std::string to_display(const Reply& r);

}  // namespace raftkv::resp

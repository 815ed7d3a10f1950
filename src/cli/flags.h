// The one command-line parser of every raftkv binary (node, simulation,
// runner, checker, etcd adapter): CLI11, with the conventions they share.
//
// - `-h, --help` prints the usage and exits 0 (to stdout, or to stderr for
//   binaries whose stdout is a protocol channel).
// - A usage error prints "<prog>: <what>" and a hint to stderr and exits 2.
// - A repeated option takes its last value.
// - Integers are plain decimal (no sign, hex or octal), range-checked.
#pragma once

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <functional>
#include <iostream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace raftkv::cli {

// An App set up with the shared conventions.
inline void configure(CLI::App& app) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_help_flag("-h,--help", "show this help and exit");
  app.get_formatter()->column_width(32);
}

// Parses argv. Returns the exit status when the program must stop now: 0
// after --help, 2 after a usage error. nullopt: go on.
inline std::optional<int> parse(CLI::App& app, int argc, const char* const* argv,
                                std::ostream& help_out = std::cout) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    help_out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": " << e.what() << "\nRun with --help for usage.\n";
    return 2;
  }
  return std::nullopt;
}

// As above, for an argument list without the program name.
inline std::optional<int> parse(CLI::App& app, std::vector<std::string> args,
                                std::ostream& help_out = std::cout) {
  try {
    std::reverse(args.begin(), args.end());  // CLI11 takes them back to front
    app.parse(args);
  } catch (const CLI::CallForHelp&) {
    help_out << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    std::cerr << app.get_name() << ": " << e.what() << "\nRun with --help for usage.\n";
    return 2;
  }
  return std::nullopt;
}

// A plain base-10 integer in [min, max], or nullopt.
inline std::optional<long long> to_int(const std::string& s, long long min, long long max) {
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty() || s[0] == '+' || v < min ||
      v > max) {
    return std::nullopt;
  }
  return v;
}

inline std::string range_text(long long min, long long max) {
  if (max == std::numeric_limits<long long>::max()) return "an integer >= " + std::to_string(min);
  return "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
}

// An integer option stored into *target, shown with its current value as the
// default in --help.
template <class T>
CLI::Option* add_int(CLI::App& app, const std::string& name, T* target, long long min,
                     long long max, const std::string& description) {
  auto* opt = app.add_option_function<std::string>(
      name,
      [target, name, min, max](const std::string& v) {
        auto n = to_int(v, min, max);
        if (!n) {
          throw CLI::ValidationError(name, "needs " + range_text(min, max) + ", got \"" + v + "\"");
        }
        *target = static_cast<T>(*n);
      },
      description);
  opt->type_name("N");
  opt->default_str(std::to_string(*target));
  return opt;
}

// A number as a person writes it ("0.2", "60"), for defaults in --help.
inline std::string number_text(double d) {
  std::ostringstream s;
  s << d;
  return s.str();
}

// A finite number option; `check` says what is wrong with a value, or "".
inline CLI::Option* add_number(CLI::App& app, const std::string& name, double* target,
                               std::function<std::string(double)> check,
                               const std::string& description) {
  auto* opt = app.add_option_function<std::string>(
      name,
      [target, name, check](const std::string& v) {
        double d = 0;
        size_t pos = 0;
        try {
          d = std::stod(v, &pos);
        } catch (...) {
          pos = 0;
        }
        if (pos == 0 || pos != v.size() || !std::isfinite(d)) {
          throw CLI::ValidationError(name, "not a number: \"" + v + "\"");
        }
        if (std::string why = check ? check(d) : ""; !why.empty()) {
          throw CLI::ValidationError(name, why + ", got \"" + v + "\"");
        }
        *target = d;
      },
      description);
  opt->type_name("S");
  opt->default_str(number_text(*target));
  return opt;
}

}  // namespace raftkv::cli

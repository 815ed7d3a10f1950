// Splits a byte stream into lines, refusing lines longer than a limit
// without buffering them.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace raftkv::maelstrom {

class LineReader {
 public:
  explicit LineReader(size_t max_line_bytes) : max_(max_line_bytes) {}

  // Feeds bytes; calls on_line for each complete line (without '\n') and
  // on_oversized once for each line that exceeded the limit.
  void feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line,
            const std::function<void(size_t)>& on_oversized);
  // End of input: a final unterminated line still counts (or is reported
  // as oversized).
  void finish(const std::function<void(std::string_view)>& on_line,
              const std::function<void(size_t)>& on_oversized = nullptr);

 private:
  size_t max_;
  std::string partial_;
  bool discarding_ = false;
  size_t discarded_ = 0;
};

}  // namespace raftkv::maelstrom

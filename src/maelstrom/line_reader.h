// Splits a byte stream into lines, refusing lines longer than a limit
// without buffering them.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "maelstrom/message.h"

namespace raftkv::maelstrom {

class LineReader {
 public:
  // Called once per line over the limit, when its end is reached: the
  // ParseResult has the error and whatever src, dest and msg_id an IdScanner
  // recovered from the whole line as it streamed past (nothing is kept).
  using OversizedFn = std::function<void(size_t total, const ParseResult& r)>;

  explicit LineReader(size_t max_line_bytes) : max_(max_line_bytes) {}

  // Feeds bytes; calls on_line for each complete line (without '\n') and
  // on_oversized once for each line that exceeded the limit.
  void feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line,
            const OversizedFn& on_oversized);
  // End of input: a final unterminated line still counts (or is reported
  // as oversized).
  void finish(const std::function<void(std::string_view)>& on_line,
              const OversizedFn& on_oversized = nullptr);

 private:
  void report_oversized(const OversizedFn& on_oversized);

  size_t max_;
  std::string partial_;
  bool discarding_ = false;
  size_t discarded_ = 0;
  IdScanner scanner_;  // the line being discarded
};

}  // namespace raftkv::maelstrom

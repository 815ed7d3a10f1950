#include "maelstrom/line_reader.h"

namespace raftkv::maelstrom {

void LineReader::feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line,
                      const std::function<void(size_t)>& on_oversized) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view chunk = bytes.substr(0, nl);
    if (discarding_) {
      discarded_ += chunk.size();
    } else if (partial_.size() + chunk.size() > max_) {
      discarding_ = true;
      discarded_ = partial_.size() + chunk.size();
      partial_.clear();
    } else if (nl != std::string_view::npos && partial_.empty()) {
      on_line(chunk);  // the common case: no copy
    } else {
      partial_.append(chunk);
    }
    if (nl == std::string_view::npos) return;
    if (discarding_) {
      on_oversized(discarded_);
      discarding_ = false;
      discarded_ = 0;
    } else if (!partial_.empty()) {
      on_line(partial_);
      partial_.clear();
    }
    bytes.remove_prefix(nl + 1);
  }
}

void LineReader::finish(const std::function<void(std::string_view)>& on_line,
                        const std::function<void(size_t)>& on_oversized) {
  if (discarding_ && on_oversized) on_oversized(discarded_);
  if (!discarding_ && !partial_.empty()) on_line(partial_);
  partial_.clear();
  discarding_ = false;
  discarded_ = 0;
}

}  // namespace raftkv::maelstrom

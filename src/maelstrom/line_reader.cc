#include "maelstrom/line_reader.h"

namespace raftkv::maelstrom {

void LineReader::feed(std::string_view bytes, const std::function<void(std::string_view)>& on_line,
                      const OversizedFn& on_oversized) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    std::string_view chunk = bytes.substr(0, nl);
    if (discarding_) {
      discarded_ += chunk.size();
      scanner_.feed(chunk);
    } else if (partial_.size() + chunk.size() > max_) {
      discarding_ = true;
      discarded_ = partial_.size() + chunk.size();
      scanner_ = IdScanner();
      scanner_.feed(partial_);
      scanner_.feed(chunk);
      partial_.clear();
      partial_.shrink_to_fit();
    } else if (nl != std::string_view::npos && partial_.empty()) {
      on_line(chunk);  // the common case: no copy
    } else {
      partial_.append(chunk);
    }
    if (nl == std::string_view::npos) return;
    if (discarding_) {
      report_oversized(on_oversized);
    } else if (!partial_.empty()) {
      on_line(partial_);
      partial_.clear();
    }
    bytes.remove_prefix(nl + 1);
  }
}

void LineReader::report_oversized(const OversizedFn& on_oversized) {
  if (on_oversized) on_oversized(discarded_, parse_oversized(scanner_, discarded_, max_));
  discarding_ = false;
  discarded_ = 0;
  scanner_ = IdScanner();
}

void LineReader::finish(const std::function<void(std::string_view)>& on_line,
                        const OversizedFn& on_oversized) {
  if (discarding_) {
    report_oversized(on_oversized);
  } else if (!partial_.empty()) {
    on_line(partial_);
  }
  partial_.clear();
}

}  // namespace raftkv::maelstrom

#include "resp/input_buffer.h"

namespace raftkv::resp {
namespace {
// Below this a consumed prefix is not worth a memmove.
constexpr size_t kCompactMin = 4096;
// An idle buffer larger than this gives its memory back (a client that sent
// one big batch should not keep it forever).
constexpr size_t kKeepCapacity = 64 * 1024;
}  // namespace

void InputBuffer::append(std::string_view bytes) {
  if (pos_ >= kCompactMin && pos_ * 2 >= data_.size()) {
    data_.erase(0, pos_);
    pos_ = 0;
  }
  data_.append(bytes);
}

void InputBuffer::consume(size_t n) {
  pos_ += n;
  scanned_ = scanned_ > n ? scanned_ - n : 0;
  if (pos_ == data_.size()) {
    pos_ = 0;
    if (data_.capacity() > kKeepCapacity) {
      std::string().swap(data_);
    } else {
      data_.clear();
    }
  }
}

size_t InputBuffer::find_newline() {
  size_t at = data_.find('\n', pos_ + scanned_);
  if (at == std::string::npos) {
    scanned_ = size();
    return std::string_view::npos;
  }
  scanned_ = at - pos_;
  return at - pos_;
}

}  // namespace raftkv::resp

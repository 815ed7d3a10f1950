// The unconsumed input of a parser. Bytes are appended at the back and
// consumed from the front by moving an offset; the consumed prefix is
// dropped only once it dominates the buffer, and line searches remember how
// far they looked. So any split of the stream (one byte at a time, or a
// large pipelined batch) costs linear time overall.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace raftkv::resp {

class InputBuffer {
 public:
  void append(std::string_view bytes);
  std::string_view pending() const { return std::string_view(data_).substr(pos_); }
  size_t size() const { return data_.size() - pos_; }
  bool empty() const { return size() == 0; }
  char front() const { return data_[pos_]; }
  void consume(size_t n);
  // Index in pending() of the first '\n', or npos; resumes where the
  // previous unsuccessful search stopped.
  size_t find_newline();
  size_t capacity() const { return data_.capacity(); }

 private:
  std::string data_;
  size_t pos_ = 0;
  size_t scanned_ = 0;  // bytes of pending() known to hold no '\n'
};

}  // namespace raftkv::resp

#include "reading_buffer.h"

namespace enertrack {

ReadingBuffer::ReadingBuffer(size_t capacity) : slots_(capacity > 0 ? capacity : 1) {}

uint32_t ReadingBuffer::push(const Sample& sample) {
  if (size_ == slots_.size()) {
    pop_front();
    ++dropped_;
  }
  slots_[(head_ + size_) % slots_.size()] = sample;
  ++size_;
  return head_id_ + static_cast<uint32_t>(size_ - 1);
}

bool ReadingBuffer::acknowledge(uint32_t id) {
  if (size_ == 0 || id != head_id_) return false;
  pop_front();
  return true;
}

void ReadingBuffer::pop_front() {
  head_ = (head_ + 1) % slots_.size();
  --size_;
  ++head_id_;
}

}  // namespace enertrack

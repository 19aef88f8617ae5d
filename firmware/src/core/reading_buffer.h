// Readings waiting for their PUBACK, oldest first, in a fixed block of RAM allocated once.
#ifndef ENERTRACK_READING_BUFFER_H
#define ENERTRACK_READING_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#include <vector>

#include "enertrack_json.h"

namespace enertrack {

// One reading as the buffer keeps it: 48 bytes (the capacity in README.md depends on it).
struct Sample {
  int64_t ts_ms = 0;          // epoch ms when taken; valid only when stamped
  uint64_t taken_mono_ms = 0; // monotonic ms when taken, to stamp it once the clock is set
  bool stamped = false;
  Measurement m;
};

// A ring of `capacity` samples. Every sample gets an id, so an acknowledgement for a sample the
// buffer has meanwhile dropped (overflow) is recognised and ignored.
class ReadingBuffer {
 public:
  explicit ReadingBuffer(size_t capacity);

  // Append; when full, the oldest sample is dropped first and counted. Returns the new sample's id.
  uint32_t push(const Sample& sample);
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }
  // Samples dropped from the full buffer since boot.
  uint32_t dropped() const { return dropped_; }

  Sample& front() { return slots_[head_]; }
  uint32_t front_id() const { return head_id_; }
  // Remove the oldest sample if it is `id` (its PUBACK arrived); false when it was dropped already.
  bool acknowledge(uint32_t id);
  // The i-th oldest sample (0 = front), e.g. to stamp held readings.
  Sample& at(size_t i) { return slots_[(head_ + i) % slots_.size()]; }

 private:
  void pop_front();

  std::vector<Sample> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
  uint32_t head_id_ = 0;  // id of slots_[head_]; ids grow by one per push
  uint32_t dropped_ = 0;
};

}  // namespace enertrack

#endif  // ENERTRACK_READING_BUFFER_H

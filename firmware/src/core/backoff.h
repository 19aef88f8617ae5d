// Reconnection delays: exponential, capped, with jitter so a fleet that lost the broker together
// does not come back in lockstep.
#ifndef ENERTRACK_BACKOFF_H
#define ENERTRACK_BACKOFF_H

#include <stdint.h>

#include "ports.h"

namespace enertrack {

class Backoff {
 public:
  Backoff(uint32_t base_ms, uint32_t max_ms, Random& random) : base_ms_(base_ms), max_ms_(max_ms), random_(random) {}

  // The delay before the next attempt: a random value in [ceiling/2, ceiling], where the ceiling
  // doubles after every failure from base_ms up to max_ms ("equal jitter": never 0, never above max).
  uint32_t next_delay_ms();
  // After a success the next failure starts from base_ms again.
  void reset() { attempt_ = 0; }
  uint32_t attempts() const { return attempt_; }

 private:
  uint32_t base_ms_;
  uint32_t max_ms_;
  Random& random_;
  uint32_t attempt_ = 0;
};

}  // namespace enertrack

#endif  // ENERTRACK_BACKOFF_H

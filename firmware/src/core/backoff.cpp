#include "backoff.h"

namespace enertrack {

uint32_t Backoff::next_delay_ms() {
  uint64_t ceiling = base_ms_;
  for (uint32_t i = 0; i < attempt_ && ceiling < max_ms_; ++i) ceiling *= 2;
  if (ceiling > max_ms_) ceiling = max_ms_;
  if (attempt_ < 32) ++attempt_;
  const uint64_t half = ceiling / 2;
  return static_cast<uint32_t>(half + random_.next() % (ceiling - half + 1));
}

}  // namespace enertrack

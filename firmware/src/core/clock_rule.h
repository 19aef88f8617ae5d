// The clock rule: a reading gets the wall-clock time it was taken at, even when NTP answers later.
#ifndef ENERTRACK_CLOCK_RULE_H
#define ENERTRACK_CLOCK_RULE_H

#include <stdint.h>

namespace enertrack {

// 2020-01-01T00:00:00Z: before it the clock is not set (an ESP32 boots in 1970); the daemon
// rejects earlier readings too (ts_too_old).
const int64_t kEarliestValidEpochMs = 1577836800000LL;

inline bool clock_is_set(bool known, int64_t epoch_ms) { return known && epoch_ms >= kEarliestValidEpochMs; }

// The epoch time of a reading taken at taken_mono_ms, now that the clock reads now_epoch_ms at now_mono_ms.
inline int64_t stamp_from_monotonic(int64_t now_epoch_ms, uint64_t now_mono_ms, uint64_t taken_mono_ms) {
  return now_epoch_ms - static_cast<int64_t>(now_mono_ms - taken_mono_ms);
}

}  // namespace enertrack

#endif  // ENERTRACK_CLOCK_RULE_H

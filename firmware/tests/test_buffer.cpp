// The ring buffer: oldest first, leaves only when acknowledged, overflow drops the oldest and counts.
#include <doctest/doctest.h>

#include "../src/core/reading_buffer.h"

using enertrack::ReadingBuffer;
using enertrack::Sample;

static Sample at(int64_t ts) {
  Sample s;
  s.ts_ms = ts;
  s.stamped = true;
  return s;
}

TEST_CASE("readings come out oldest first and leave only when their id is acknowledged") {
  ReadingBuffer buffer(4);
  const uint32_t first = buffer.push(at(1));
  buffer.push(at(2));
  CHECK(buffer.size() == 2);
  CHECK(buffer.front().ts_ms == 1);
  CHECK_FALSE(buffer.acknowledge(first + 1));  // not the front: nothing leaves
  CHECK(buffer.size() == 2);
  CHECK(buffer.acknowledge(first));
  CHECK(buffer.front().ts_ms == 2);
  CHECK(buffer.size() == 1);
}

TEST_CASE("a full buffer drops the oldest and counts it") {
  ReadingBuffer buffer(3);
  const uint32_t first = buffer.push(at(1));
  for (int64_t ts = 2; ts <= 5; ++ts) buffer.push(at(ts));
  CHECK(buffer.size() == 3);
  CHECK(buffer.dropped() == 2);
  CHECK(buffer.front().ts_ms == 3);
  CHECK(buffer.at(2).ts_ms == 5);
  CHECK_FALSE(buffer.acknowledge(first));  // its PUBACK came after the overflow took it
  CHECK(buffer.acknowledge(buffer.front_id()));
  CHECK(buffer.front().ts_ms == 4);
}

TEST_CASE("the ring wraps around many times without losing order") {
  ReadingBuffer buffer(5);
  for (int64_t ts = 0; ts < 3; ++ts) buffer.push(at(ts));
  for (int64_t ts = 3; ts < 1000; ++ts) {
    buffer.push(at(ts));
    CHECK(buffer.front().ts_ms == ts - 3);
    CHECK(buffer.acknowledge(buffer.front_id()));
  }
  CHECK(buffer.dropped() == 0);
  CHECK(buffer.size() == 3);
  CHECK(buffer.front().ts_ms == 997);
}

TEST_CASE("a buffered reading takes 48 bytes: the documented 1024 readings fit in 48 KiB") {
  CHECK(sizeof(Sample) <= 48);
}

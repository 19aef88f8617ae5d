// Reconnection delays grow exponentially up to a cap, with jitter, and start over after a success.
#include <doctest/doctest.h>

#include "../src/core/backoff.h"
#include "fakes.h"

TEST_CASE("delays double up to the cap, each within [ceiling/2, ceiling]") {
  fakes::Random random;
  enertrack::Backoff backoff(1000, 60000, random);
  const uint32_t ceilings[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
  for (size_t i = 0; i < sizeof ceilings / sizeof ceilings[0]; ++i) {
    random.value = 0;  // the low end of the jitter
    const uint32_t delay = backoff.next_delay_ms();
    CHECK(delay == ceilings[i] / 2);
  }
}

TEST_CASE("jitter spreads the delay over the upper half of the ceiling") {
  fakes::Random random;
  enertrack::Backoff backoff(1000, 60000, random);
  random.value = 500;  // 500 % 501 = 500: the ceiling itself
  CHECK(backoff.next_delay_ms() == 1000);
  random.value = 250;
  CHECK(backoff.next_delay_ms() == 1000 + 250);  // ceiling 2000: 1000 + 250 % 1001
  random.value = 0xFFFFFFFFu;
  const uint32_t delay = backoff.next_delay_ms();  // ceiling 4000
  CHECK(delay >= 2000);
  CHECK(delay <= 4000);
}

TEST_CASE("a success resets the delay to the base") {
  fakes::Random random;
  enertrack::Backoff backoff(1000, 60000, random);
  for (int i = 0; i < 10; ++i) backoff.next_delay_ms();
  CHECK(backoff.next_delay_ms() == 30000);
  backoff.reset();
  CHECK(backoff.next_delay_ms() == 500);
}

TEST_CASE("many failures never overflow the ceiling") {
  fakes::Random random;
  random.value = 0xFFFFFFFFu;
  enertrack::Backoff backoff(1000, 60000, random);
  for (int i = 0; i < 200; ++i) CHECK(backoff.next_delay_ms() <= 60000);
}

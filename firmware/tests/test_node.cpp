// The node end to end with fake hardware: buffering, replay order and pace, PUBACK, backoff, the clock rule.
#include <doctest/doctest.h>

#include <cstdlib>

#include "../src/core/node.h"
#include "fakes.h"

namespace {

struct Rig {
  fakes::Clock clock;
  fakes::Sensor sensor;
  fakes::Network network;
  fakes::Random random;
  fakes::Log log;
  enertrack::NodeSettings settings;
  enertrack::Node* node = nullptr;

  explicit Rig(size_t capacity = 8) {
    settings.node_id = "meter-1";
    settings.interval_ms = 1000;
    settings.buffer_capacity = capacity;
    settings.fw = "test-fw";
    network.now_ms = &clock.mono;
  }
  ~Rig() { delete node; }
  enertrack::Node& start() {
    node = new enertrack::Node(settings, sensor, clock, network, random, log);
    return *node;
  }
  // Advance the monotonic clock by ms in steps of 10 ms, running the loop at each step.
  void run(uint64_t ms) {
    for (uint64_t t = 0; t < ms; t += 10) {
      node->loop();
      clock.mono += 10;
    }
  }
  std::vector<long long> sent_ts() const {
    std::vector<long long> out;
    std::vector<fakes::Message> telemetry = network.telemetry();
    for (size_t i = 0; i < telemetry.size(); ++i)
      out.push_back(std::atoll(fakes::json_value(telemetry[i].payload, "ts").c_str()));
    return out;
  }
};

}  // namespace

TEST_CASE("connects with the Last Will, says online, publishes one reading per interval") {
  Rig rig;
  rig.start();
  rig.run(3000);
  CHECK(rig.network.will.topic == "enertrack/meter-1/status");
  CHECK(rig.network.will.payload == "offline");
  REQUIRE(!rig.network.sent.empty());
  CHECK(rig.network.sent[0].topic == "enertrack/meter-1/status");
  CHECK(rig.network.sent[0].payload == "online");
  CHECK(rig.network.sent[0].retain);
  const std::vector<fakes::Message> telemetry = rig.network.telemetry();
  REQUIRE(telemetry.size() == 3);
  CHECK(telemetry[0].topic == "enertrack/meter-1/telemetry");
  CHECK_FALSE(telemetry[0].retain);
  CHECK(rig.sent_ts() == std::vector<long long>{1750000001000LL, 1750000002000LL, 1750000003000LL});
  CHECK(rig.node->buffer().empty());
  CHECK(fakes::json_value(telemetry[2].payload, "fw") == "\"test-fw\"");
  CHECK(fakes::json_value(telemetry[2].payload, "rssi") == "-61");
  CHECK(fakes::json_value(telemetry[2].payload, "uptime_s") == "3");
  CHECK(fakes::json_value(telemetry[2].payload, "buffered") == "0");
  CHECK(fakes::json_value(telemetry[2].payload, "dropped") == "0");
}

TEST_CASE("a reading stays in the buffer until its PUBACK arrives") {
  Rig rig;
  rig.network.auto_ack = false;
  rig.start();
  rig.run(500);
  REQUIRE(rig.network.telemetry().size() == 1);
  CHECK(rig.node->buffer().size() == 1);
  rig.run(2000);  // two more readings, but nothing new is sent while one waits for its PUBACK
  CHECK(rig.network.telemetry().size() == 1);
  CHECK(rig.node->buffer().size() == 3);
  rig.network.acks.push_back(rig.network.telemetry()[0].token);
  rig.run(20);
  CHECK(rig.node->buffer().size() == 2);
}

TEST_CASE("while the broker is down readings are buffered, then replayed oldest first with their ts") {
  Rig rig(16);
  rig.start();
  rig.run(1500);  // 2 readings sent
  rig.network.broker_up = false;
  rig.run(5000);  // 5 readings taken while down
  CHECK(rig.node->buffer().size() == 5);
  CHECK(rig.log.has("mqtt connection lost"));
  rig.network.broker_up = true;
  rig.run(10000);
  const std::vector<long long> ts = rig.sent_ts();
  std::vector<long long> expected;
  for (uint32_t i = 0; i < rig.node->taken(); ++i) expected.push_back(1750000001000LL + 1000LL * i);
  CHECK(rig.node->taken() >= 16);
  CHECK(ts == expected);  // every reading once, in order, with the time it was taken
  CHECK(rig.node->buffer().empty());
}

TEST_CASE("the backlog is replayed at most one message per replay gap") {
  Rig rig(128);
  rig.settings.replay_gap_ms = 200;
  rig.network.broker_up = false;
  rig.start();
  rig.run(20000);
  CHECK(rig.node->buffer().size() == 20);
  rig.network.broker_up = true;
  rig.run(61000);  // the backoff may wait up to 60 s before the next attempt
  CHECK(rig.node->buffer().empty());
  const std::vector<fakes::Message> sent = rig.network.telemetry();
  REQUIRE(sent.size() >= 20);
  for (size_t i = 1; i < 20; ++i) CHECK(sent[i].at - sent[i - 1].at >= 200);
  CHECK(sent[19].at - sent[0].at <= 19 * 210);  // paced, not stalled
}

TEST_CASE("reconnection attempts back off exponentially") {
  Rig rig;
  rig.network.broker_up = false;
  rig.start();
  rig.run(20000);
  // Attempts at 0, 0.5, 1.5, 3.5, 7.5, 15.5 s with the low end of the jitter: 6, not 2000.
  CHECK(rig.network.connects == 6);
  CHECK(rig.log.has("mqtt connect failed (connection refused): retry in 8000 ms"));
}

TEST_CASE("a full buffer drops the oldest readings, counts them and says so in the payload") {
  Rig rig(3);
  rig.settings.backoff_max_ms = 1000;  // retry every 0.5 s: this test is about the overflow
  rig.network.broker_up = false;
  rig.start();
  rig.run(5500);  // 6 readings into 3 places
  CHECK(rig.node->buffer().size() == 3);
  CHECK(rig.node->buffer().dropped() == 3);
  CHECK(rig.log.has("buffer full: dropped the oldest reading (3 dropped since boot)"));
  rig.network.broker_up = true;
  rig.run(10000);
  const std::vector<long long> ts = rig.sent_ts();
  REQUIRE(ts.size() >= 3);
  CHECK(ts[0] == 1750000004000LL);  // the three oldest are gone
  CHECK(ts[1] == 1750000005000LL);
  CHECK(ts[2] == 1750000006000LL);
  const std::vector<fakes::Message> sent = rig.network.telemetry();
  CHECK(fakes::json_value(sent[0].payload, "dropped") != "0");
  CHECK(fakes::json_value(sent.back().payload, "dropped") == std::to_string(rig.node->buffer().dropped()));
}

TEST_CASE("no PUBACK within the timeout: reconnect and send the same reading again") {
  Rig rig(16);
  rig.network.auto_ack = false;
  rig.start();
  rig.run(500);
  REQUIRE(rig.network.telemetry().size() == 1);
  rig.run(11000);
  CHECK(rig.log.has("mqtt no PUBACK within 10000 ms"));
  CHECK(rig.network.connects >= 2);
  const std::vector<long long> ts = rig.sent_ts();
  REQUIRE(ts.size() >= 2);
  CHECK(ts[1] == ts[0]);  // the same reading, the daemon stores it once
}

TEST_CASE("before the clock is set readings are held, then stamped with the time they were taken") {
  Rig rig;
  rig.clock.set = false;
  rig.start();
  rig.run(3000);
  CHECK(rig.node->taken() == 3);
  CHECK(rig.network.connects == 0);  // TLS needs the date: no connection before NTP
  CHECK(rig.network.sent.empty());
  CHECK(rig.log.has("reading held: clock not set yet (3 held)"));
  CHECK(rig.log.has("waiting for the clock (NTP)"));
  rig.clock.set = true;  // NTP answered at mono 4000
  rig.run(500);
  CHECK(rig.log.has("clock set: 3 held readings stamped"));
  CHECK(rig.log.has("reading ts=1750000001000 stamped from the monotonic clock"));
  const std::vector<long long> ts = rig.sent_ts();
  CHECK(ts == std::vector<long long>{1750000001000LL, 1750000002000LL, 1750000003000LL, 1750000004000LL});
  // The log lists the readings in the order they were taken (the host node's tests rely on it).
  std::vector<long long> logged;
  for (size_t i = 0; i < rig.log.lines.size(); ++i)
    if (rig.log.lines[i].compare(0, 11, "reading ts=") == 0) logged.push_back(std::atoll(rig.log.lines[i].c_str() + 11));
  CHECK(logged == ts);
}

TEST_CASE("held readings dropped by an overflow are no longer counted as held") {
  Rig rig(2);
  rig.clock.set = false;
  rig.start();
  rig.run(4500);  // 5 readings into 2 places
  CHECK(rig.log.has("reading held: clock not set yet (2 held)"));
  CHECK_FALSE(rig.log.has("(3 held)"));
  rig.clock.set = true;
  rig.run(200);
  CHECK(rig.log.has("clock set: 2 held readings stamped"));
}

TEST_CASE("a sensor that answers nothing produces no reading, and says so") {
  Rig rig;
  rig.sensor.fail = true;
  rig.start();
  rig.run(2500);
  CHECK(rig.node->taken() == 0);
  CHECK(rig.network.telemetry().empty());
  CHECK(rig.log.has("sensor read failed"));
}

TEST_CASE("without Wi-Fi the node waits and keeps buffering") {
  Rig rig;
  rig.network.link = false;
  rig.start();
  rig.run(3000);
  CHECK(rig.network.connects == 0);
  CHECK(rig.log.has("waiting for Wi-Fi"));
  CHECK(rig.node->buffer().size() == 3);
  rig.network.link = true;
  rig.run(1000);
  CHECK(rig.sent_ts().size() == 4);
}

TEST_CASE("shutdown publishes offline before a clean disconnect") {
  Rig rig;
  rig.start();
  rig.run(1500);
  rig.node->shutdown();
  CHECK(rig.network.sent.back().topic == "enertrack/meter-1/status");
  CHECK(rig.network.sent.back().payload == "offline");
  CHECK(rig.network.sent.back().retain);
  CHECK_FALSE(rig.network.connected());
}

TEST_CASE("two readings never share an epoch second: the later one moves to the next second") {
  Rig rig;
  rig.clock.epoch_at_zero = 1750000000000LL - 995;  // the first reading lands at x.005
  rig.start();
  rig.run(500);
  rig.clock.epoch_at_zero -= 10;  // the clock is slewed back 10 ms: the next reading would be at x.995
  rig.run(1000);
  rig.clock.epoch_at_zero -= 5000;  // stepped back 5 s: left alone (not a scheduling jitter)
  rig.run(1000);
  CHECK(rig.sent_ts() == std::vector<long long>{1750000000005LL, 1750000001000LL, 1749999996995LL});
}

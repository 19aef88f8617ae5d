// enertrack-node: the firmware's core on a PC, with libmosquitto and a simulated PZEM-004T.
#include <mosquitto.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include <chrono>
#include <random>
#include <thread>

#include "cli.h"
#include "simulated_pzem.h"

namespace {

volatile sig_atomic_t stop_requested = 0;

void request_stop(int) { stop_requested = 1; }

class HostClock : public enertrack::Clock {
 public:
  explicit HostClock(double delay_s) : start_(std::chrono::steady_clock::now()), delay_ms_(delay_s * 1000) {}
  bool epoch_ms(int64_t& out) override {
    if (monotonic_ms() < delay_ms_) return false;  // --clock-delay: NTP has not answered yet
    out = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::system_clock::now().time_since_epoch()).count();
    return true;
  }
  uint64_t monotonic_ms() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
  double delay_ms_;
};

class HostRandom : public enertrack::Random {
 public:
  HostRandom() : engine_(std::random_device()()) {}
  uint32_t next() override { return engine_(); }

 private:
  std::mt19937 engine_;
};

class StdoutLog : public enertrack::Log {
 public:
  void line(const std::string& text) override {
    printf("[enertrack] %s\n", text.c_str());
    fflush(stdout);
  }
};

}  // namespace

int main(int argc, char** argv) {
  host::Options options;
  std::string message;
  bool help = false;
  if (!host::parse_options(argc, argv, options, message, help)) {
    if (help) {
      fputs(host::usage(), stdout);
      return 0;
    }
    fprintf(stderr, "enertrack-node: %s\n%s", message.c_str(), host::usage());
    return 2;
  }
  signal(SIGTERM, request_stop);
  signal(SIGINT, request_stop);
  mosquitto_lib_init();
  HostClock clock(options.clock_delay_s);
  host::SimulatedPzem sensor(clock, options.energy_kwh);
  host::MosquittoNetwork network(options.broker);
  HostRandom random;
  StdoutLog log;
  {
    enertrack::Node node(options.node, sensor, clock, network, random, log);
    log.line("node " + options.node.node_id + " publishing to " + node.telemetry_topic() + " via " +
             options.broker.host + ":" + std::to_string(options.broker.port) + ", buffer " +
             std::to_string(options.node.buffer_capacity) + " readings");
    const uint32_t count = options.node.max_readings;
    while (!stop_requested) {
      node.loop();
      if (count != 0 && node.taken() >= count && node.buffer().empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    node.shutdown();
    if (!node.buffer().empty()) log.line("stopped with " + std::to_string(node.buffer().size()) + " readings unsent");
  }
  mosquitto_lib_cleanup();
  return 0;
}

// The thin hardware layer: everything the core needs from a board, as small interfaces.
// The ESP32 implements them in src/esp32_*.cpp, the host node in host/, the tests with fakes.
#ifndef ENERTRACK_PORTS_H
#define ENERTRACK_PORTS_H

#include <stdint.h>

#include <string>

#include "enertrack_json.h"

namespace enertrack {

// The meter. A field it could not read stays NAN (the PZEM library returns NAN on a failed read).
class Sensor {
 public:
  virtual ~Sensor() {}
  virtual Measurement read() = 0;
};

// Wall clock and monotonic clock.
class Clock {
 public:
  virtual ~Clock() {}
  // Epoch milliseconds; false while the clock is not set (before NTP answered).
  virtual bool epoch_ms(int64_t& out) = 0;
  // Milliseconds since boot; never goes back, never wraps in practice (64 bits).
  virtual uint64_t monotonic_ms() = 0;
};

// What the network layer reports back while the core polls it.
class NetworkListener {
 public:
  virtual ~NetworkListener() {}
  virtual void on_puback(uint16_t token) = 0;
};

// Retained Last Will the broker publishes when the node disappears.
struct Will {
  std::string topic;
  std::string payload;
};

// An MQTT client speaking QoS 1 over TLS. Calls may block for a bounded time (a connect attempt).
class Network {
 public:
  virtual ~Network() {}
  // Wi-Fi (or whatever carries the packets) is up; the host's loopback always is.
  virtual bool link_up() = 0;
  virtual bool connected() = 0;
  // One connection attempt with the Last Will; false (with a reason in `error`) on failure.
  virtual bool connect(const Will& will, std::string& error) = 0;
  // Queue one QoS 1 message; `token` identifies its PUBACK. False when it could not be sent.
  virtual bool publish(const std::string& topic, const std::string& payload, bool retain, uint16_t& token) = 0;
  // Service the connection: deliver PUBACKs to listener, notice a lost connection.
  virtual void poll(NetworkListener& listener) = 0;
  virtual void disconnect() = 0;
  // Signal strength in dBm; false when there is no radio or no association.
  virtual bool rssi(long& dbm) = 0;
};

// Non-volatile key/value storage for the device configuration (NVS on the ESP32).
class Storage {
 public:
  virtual ~Storage() {}
  virtual bool get(const char* key, std::string& value) = 0;
  virtual bool put(const char* key, const std::string& value) = 0;
};

// Random numbers for the jitter (esp_random() on the ESP32).
class Random {
 public:
  virtual ~Random() {}
  virtual uint32_t next() = 0;
};

// One line of the serial log (or stdout on the host).
class Log {
 public:
  virtual ~Log() {}
  virtual void line(const std::string& text) = 0;
};

}  // namespace enertrack

#endif  // ENERTRACK_PORTS_H

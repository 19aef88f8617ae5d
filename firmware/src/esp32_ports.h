// The ESP32's side of the hardware ports (src/core/ports.h): PZEM, clocks, MQTT over TLS, NVS, log.
#ifndef ENERTRACK_ESP32_PORTS_H
#define ENERTRACK_ESP32_PORTS_H

#include <MQTT.h>
#include <PZEM004Tv30.h>
#include <Preferences.h>
#include <WiFiClientSecure.h>

#include <vector>

#include "core/device_config.h"
#include "core/ports.h"

namespace esp32 {

class PzemSensor : public enertrack::Sensor {
 public:
  PzemSensor(HardwareSerial& port, uint8_t rx_pin, uint8_t tx_pin) : pzem_(port, rx_pin, tx_pin) {}
  enertrack::Measurement read() override;

 private:
  PZEM004Tv30 pzem_;
};

class EspClock : public enertrack::Clock {
 public:
  bool epoch_ms(int64_t& out) override;
  uint64_t monotonic_ms() override;
};

class MqttNetwork : public enertrack::Network {
 public:
  explicit MqttNetwork(const enertrack::DeviceConfig& config) : config_(config), mqtt_(kBufferBytes) {}
  bool link_up() override;
  bool connected() override { return mqtt_.connected(); }
  bool connect(const enertrack::Will& will, std::string& error) override;
  bool publish(const std::string& topic, const std::string& payload, bool retain, uint16_t& token) override;
  void poll(enertrack::NetworkListener& listener) override;
  void disconnect() override;
  bool rssi(long& dbm) override;
  // Connection attempts in a row the broker refused for the user name or password.
  int refusals() const { return refusals_; }
  void forget_refusals() { refusals_ = 0; }

 private:
  static const int kBufferBytes = 1024;  // topic + a reading (~300 bytes) with room to spare
  const enertrack::DeviceConfig& config_;
  WiFiClientSecure tls_;
  MQTTClient mqtt_;
  enertrack::Will will_;  // arduino-mqtt keeps pointers to the will's text: it must outlive the connection
  std::vector<uint16_t> acks_;
  uint16_t next_token_ = 0;
  int refusals_ = 0;
};

class NvsStorage : public enertrack::Storage {
 public:
  bool begin() { return prefs_.begin("enertrack", false); }
  bool get(const char* key, std::string& value) override;
  bool put(const char* key, const std::string& value) override;

 private:
  Preferences prefs_;
};

class EspRandom : public enertrack::Random {
 public:
  uint32_t next() override;
};

class SerialLog : public enertrack::Log {
 public:
  void line(const std::string& text) override;
};

}  // namespace esp32

#endif  // ENERTRACK_ESP32_PORTS_H

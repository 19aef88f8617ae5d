#include "esp32_ports.h"

#include <WiFi.h>
#include <esp_system.h>
#include <esp_timer.h>
#include <sys/time.h>

#include "core/clock_rule.h"

namespace esp32 {

enertrack::Measurement PzemSensor::read() {
  // The library reads all registers at once and returns NAN for each value when the meter is silent.
  enertrack::Measurement m;
  m.voltage = pzem_.voltage();
  m.current = pzem_.current();
  m.power = pzem_.power();
  m.energy_kwh = pzem_.energy();
  m.power_factor = pzem_.pf();
  m.frequency = pzem_.frequency();
  return m;
}

bool EspClock::epoch_ms(int64_t& out) {
  struct timeval now;
  gettimeofday(&now, nullptr);
  out = static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_usec / 1000;
  return enertrack::clock_is_set(true, out);
}

uint64_t EspClock::monotonic_ms() { return static_cast<uint64_t>(esp_timer_get_time() / 1000); }

bool MqttNetwork::link_up() { return WiFi.status() == WL_CONNECTED; }

bool MqttNetwork::connect(const enertrack::Will& will, std::string& error) {
  will_ = will;
  tls_.setCACert(config_.mqtt_ca.c_str());  // verified against this CA; there is no setInsecure() anywhere
  tls_.setHandshakeTimeout(10);
  mqtt_.begin(config_.mqtt_host.c_str(), config_.port(), tls_);
  mqtt_.setWill(will_.topic.c_str(), will_.payload.c_str(), true, 1);
  mqtt_.setKeepAlive(30);
  mqtt_.setCleanSession(true);  // the node's own buffer resends what was not acknowledged
  mqtt_.setTimeout(5000);       // how long a QoS 1 publish waits for its PUBACK
  if (mqtt_.connect(config_.node_id.c_str(), config_.user().c_str(), config_.mqtt_password.c_str())) {
    refusals_ = 0;
    return true;
  }
  const lwmqtt_return_code_t code = mqtt_.returnCode();
  const bool denied = mqtt_.lastError() == LWMQTT_CONNECTION_DENIED;
  if (denied && (code == LWMQTT_BAD_USERNAME_OR_PASSWORD || code == LWMQTT_NOT_AUTHORIZED)) {
    ++refusals_;
    error = "the broker refused user '" + config_.user() + "' or its password (CONNACK " +
            std::to_string(static_cast<int>(code)) + ")";
    return false;
  }
  refusals_ = 0;
  if (denied) {
    error = "the broker refused the connection (CONNACK " + std::to_string(static_cast<int>(code)) + ")";
    return false;
  }
  char tls_error[96] = "";
  tls_.lastError(tls_error, sizeof tls_error);
  error = "no connection to " + config_.mqtt_host + ":" + std::to_string(config_.port()) + " (lwmqtt error " +
          std::to_string(static_cast<int>(mqtt_.lastError())) + ")" + (tls_error[0] ? std::string(", TLS: ") + tls_error : "");
  return false;
}

bool MqttNetwork::publish(const std::string& topic, const std::string& payload, bool retain, uint16_t& token) {
  // arduino-mqtt's QoS 1 publish returns true only once the PUBACK is in: report it at the next poll.
  if (!mqtt_.publish(topic.c_str(), payload.c_str(), static_cast<int>(payload.size()), retain, 1)) return false;
  token = ++next_token_;
  acks_.push_back(token);
  return true;
}

void MqttNetwork::poll(enertrack::NetworkListener& listener) {
  mqtt_.loop();
  std::vector<uint16_t> acks;
  acks.swap(acks_);
  for (size_t i = 0; i < acks.size(); ++i) listener.on_puback(acks[i]);
}

void MqttNetwork::disconnect() {
  mqtt_.disconnect();
  tls_.stop();
  acks_.clear();
}

bool MqttNetwork::rssi(long& dbm) {
  if (WiFi.status() != WL_CONNECTED) return false;
  dbm = WiFi.RSSI();
  return true;
}

bool NvsStorage::get(const char* key, std::string& value) {
  if (!prefs_.isKey(key)) return false;
  value = prefs_.getString(key).c_str();
  return true;
}

bool NvsStorage::put(const char* key, const std::string& value) {
  return prefs_.putString(key, value.c_str()) == value.size();
}

uint32_t EspRandom::next() { return esp_random(); }

void SerialLog::line(const std::string& text) { Serial.printf("[enertrack] %s\n", text.c_str()); }

}  // namespace esp32

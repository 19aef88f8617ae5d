#include "device_config.h"

#include <stdio.h>
#include <stdlib.h>

namespace enertrack {

namespace {

const char kBegin[] = "-----BEGIN CERTIFICATE-----";
const char kEnd[] = "-----END CERTIFICATE-----";

bool parse_uint(const std::string& text, unsigned long low, unsigned long high, unsigned long& out) {
  if (text.empty() || text.size() > 10) return false;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] < '0' || text[i] > '9') return false;
  out = strtoul(text.c_str(), nullptr, 10);
  return out >= low && out <= high;
}

bool valid_node_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    const char c = id[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_base64(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

std::string byte_count(const std::string& text) {
  char out[24];
  snprintf(out, sizeof out, "%u bytes", static_cast<unsigned>(text.size()));
  return out;
}

std::string* field(DeviceConfig& c, const std::string& name) {
  if (name == "wifi_ssid") return &c.wifi_ssid;
  if (name == "wifi_password") return &c.wifi_password;
  if (name == "mqtt_host") return &c.mqtt_host;
  if (name == "mqtt_port") return &c.mqtt_port;
  if (name == "mqtt_ca") return &c.mqtt_ca;
  if (name == "node_id") return &c.node_id;
  if (name == "mqtt_user") return &c.mqtt_user;
  if (name == "mqtt_password") return &c.mqtt_password;
  if (name == "interval_s") return &c.interval_s;
  return nullptr;
}

}  // namespace

uint16_t DeviceConfig::port() const {
  unsigned long value = 0;
  return parse_uint(mqtt_port, 1, 65535, value) ? static_cast<uint16_t>(value) : 8883;
}

uint32_t DeviceConfig::interval() const {
  unsigned long value = 0;
  return parse_uint(interval_s, 1, 3600, value) ? static_cast<uint32_t>(value) : 10;
}

const std::vector<std::string>& config_field_names() {
  static const std::vector<std::string> names = {"wifi_ssid", "wifi_password", "mqtt_host", "mqtt_port", "mqtt_ca",
                                                 "node_id", "mqtt_user", "mqtt_password", "interval_s"};
  return names;
}

bool normalize_pem(const std::string& text, std::string& pem, std::string& error) {
  const size_t begin = text.find(kBegin);
  const size_t end = text.find(kEnd);
  if (begin == std::string::npos || end == std::string::npos || end < begin) {
    error = "mqtt_ca must be a PEM certificate from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----";
    return false;
  }
  std::string body;
  for (size_t i = begin + sizeof kBegin - 1; i < end; ++i) {
    const char c = text[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (!is_base64(c)) {
      error = "mqtt_ca has a character that is not base64 between its BEGIN and END lines; paste the file unchanged";
      return false;
    }
    body += c;
  }
  if (body.size() < 64 || body.size() % 4 != 0) {
    error = "mqtt_ca looks cut short (its base64 body is incomplete); paste the whole certificate";
    return false;
  }
  pem = std::string(kBegin) + "\n";
  for (size_t i = 0; i < body.size(); i += 64) pem += body.substr(i, 64) + "\n";
  pem += std::string(kEnd) + "\n";
  return true;
}

bool set_field(DeviceConfig& config, const std::string& name, const std::string& value, std::string& error) {
  std::string* target = field(config, name);
  if (target == nullptr) {
    error = "unknown field '" + name + "'; the fields are wifi_ssid wifi_password mqtt_host mqtt_port mqtt_ca "
            "node_id mqtt_user mqtt_password interval_s";
    return false;
  }
  unsigned long number = 0;
  if (name == "mqtt_port" && !parse_uint(value, 1, 65535, number)) {
    error = "mqtt_port must be a port number 1..65535 (EnerTrack's broker: 8883), got '" + value + "'";
    return false;
  }
  if (name == "interval_s" && !parse_uint(value, 1, 3600, number)) {
    error = "interval_s must be whole seconds 1..3600, got '" + value + "'";
    return false;
  }
  if (name == "node_id" && !valid_node_id(value)) {
    error = "node_id must be 1-64 of A-Z a-z 0-9 _ - (as registered in EnerTrack), got '" + value + "'";
    return false;
  }
  if (name == "wifi_ssid" && value.size() > 32) {
    error = "wifi_ssid has at most 32 characters";
    return false;
  }
  if (name == "mqtt_ca") {
    std::string pem;
    if (!normalize_pem(value, pem, error)) return false;
    *target = pem;
    return true;
  }
  *target = value;
  return true;
}

std::string get_field(const DeviceConfig& config, const std::string& name) {
  std::string* value = field(const_cast<DeviceConfig&>(config), name);
  return value == nullptr ? std::string() : *value;
}

std::string show(const DeviceConfig& config) {
  std::string out;
  const std::vector<std::string>& names = config_field_names();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string value = get_field(config, names[i]);
    std::string shown = value;
    if (names[i] == "wifi_password" || names[i] == "mqtt_password") shown = value.empty() ? "(not set)" : "********";
    else if (names[i] == "mqtt_ca") shown = value.empty() ? "(not set)" : "(PEM, " + byte_count(value) + ")";
    else if (names[i] == "mqtt_user" && value.empty()) shown = "(the node id)";
    else if (value.empty()) shown = "(not set)";
    out += names[i] + " = " + shown + "\n";
  }
  return out;
}

std::vector<std::string> missing_fields(const DeviceConfig& config) {
  std::vector<std::string> missing;
  const char* required[] = {"wifi_ssid", "mqtt_host", "mqtt_ca", "node_id", "mqtt_password"};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; ++i)
    if (get_field(config, required[i]).empty()) missing.push_back(required[i]);
  return missing;
}

void load_config(DeviceConfig& config, Storage& storage, std::vector<std::string>& problems) {
  const std::vector<std::string>& names = config_field_names();
  for (size_t i = 0; i < names.size(); ++i) {
    std::string value, error;
    if (!storage.get(names[i].c_str(), value) || value.empty()) continue;
    if (!set_field(config, names[i], value, error)) problems.push_back(names[i] + " in NVS ignored: " + error);
  }
}

bool save_config(const DeviceConfig& config, Storage& storage) {
  const std::vector<std::string>& names = config_field_names();
  bool ok = true;
  for (size_t i = 0; i < names.size(); ++i) ok = storage.put(names[i].c_str(), get_field(config, names[i])) && ok;
  return ok;
}

}  // namespace enertrack

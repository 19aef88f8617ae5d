// The device configuration: the field names firmware/ owns (NVS keys, portal fields, console names).
#ifndef ENERTRACK_DEVICE_CONFIG_H
#define ENERTRACK_DEVICE_CONFIG_H

#include <stdint.h>

#include <string>
#include <vector>

#include "ports.h"

namespace enertrack {

struct DeviceConfig {
  std::string wifi_ssid;
  std::string wifi_password;
  std::string mqtt_host;
  std::string mqtt_port = "8883";
  std::string mqtt_ca;  // PEM text of the CA that signed the broker's certificate
  std::string node_id;
  std::string mqtt_user;  // empty: the node id (EnerTrack's broker user name for a node)
  std::string mqtt_password;
  std::string interval_s = "10";

  uint16_t port() const;
  uint32_t interval() const;
  const std::string& user() const { return mqtt_user.empty() ? node_id : mqtt_user; }
};

// The nine field names, in the order `show` prints them.
const std::vector<std::string>& config_field_names();
// Check and store one field; false with a message saying what to send instead.
bool set_field(DeviceConfig& config, const std::string& name, const std::string& value, std::string& error);
// The value of a field ("" for an unknown name).
std::string get_field(const DeviceConfig& config, const std::string& name);
// "name = value" lines, passwords masked, the CA shortened to its subject-less summary.
std::string show(const DeviceConfig& config);
// Fields the node cannot work without, e.g. {"wifi_ssid", "mqtt_ca"}.
std::vector<std::string> missing_fields(const DeviceConfig& config);

// Storage: every field under its own name as NVS key; an invalid stored value is skipped and reported.
void load_config(DeviceConfig& config, Storage& storage, std::vector<std::string>& problems);
bool save_config(const DeviceConfig& config, Storage& storage);

// A certificate pasted on one line (the captive portal's text box drops line breaks) or with
// stray spaces, made back into PEM: BEGIN line, base64 in 64-character lines, END line.
bool normalize_pem(const std::string& text, std::string& pem, std::string& error);

}  // namespace enertrack

#endif  // ENERTRACK_DEVICE_CONFIG_H

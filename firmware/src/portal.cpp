#include "portal.h"

#include <WiFiManager.h>

namespace esp32 {

namespace {

bool saved = false;

void mark_saved() { saved = true; }

struct Field {
  const char* name;
  const char* label;
  int length;
  const char* html;  // extra attributes of the input
};

// wifi_ssid and wifi_password are WiFiManager's own fields (it scans and lists the networks).
const Field kFields[] = {
    {"mqtt_host", "Broker host (from the node page)", 128, ""},
    {"mqtt_port", "Broker port", 6, "type='number' min='1' max='65535'"},
    {"mqtt_ca", "Broker CA certificate (PEM; pasted on one line is fine)", 4000, ""},
    {"node_id", "Node id", 64, ""},
    {"mqtt_user", "MQTT user (empty: the node id)", 64, ""},
    {"mqtt_password", "MQTT password", 128, "type='password'"},
    {"interval_s", "Reporting interval (s)", 5, "type='number' min='1' max='3600'"},
};
const size_t kFieldCount = sizeof kFields / sizeof kFields[0];

}  // namespace

bool run_portal(enertrack::DeviceConfig& config, unsigned long timeout_s, bool (*idle)(),
                std::vector<std::string>& problems) {
  WiFiManager manager;
  std::vector<WiFiManagerParameter*> params;
  for (size_t i = 0; i < kFieldCount; ++i) {
    // Passwords are not shown back; an empty password field keeps the stored one.
    const bool secret = std::string(kFields[i].name) == "mqtt_password";
    const std::string current = secret ? "" : enertrack::get_field(config, kFields[i].name);
    params.push_back(new WiFiManagerParameter(kFields[i].name, kFields[i].label, current.c_str(), kFields[i].length,
                                              kFields[i].html));
    manager.addParameter(params.back());
  }
  saved = false;
  manager.setSaveParamsCallback(mark_saved);
  manager.setSaveConfigCallback(mark_saved);
  manager.setBreakAfterConfig(true);
  manager.setConfigPortalBlocking(false);
  manager.setConfigPortalTimeout(timeout_s);
  const std::string ap = "EnerTrack-" + (config.node_id.empty() ? std::string("setup") : config.node_id);
  manager.startConfigPortal(ap.c_str());
  const unsigned long started = millis();
  while (!saved && millis() - started < timeout_s * 1000UL) {
    manager.process();
    if (!idle()) break;
    delay(10);
  }
  if (saved) {
    const String ssid = manager.getWiFiSSID(true);
    if (ssid.length() > 0) {
      config.wifi_ssid = ssid.c_str();
      config.wifi_password = manager.getWiFiPass(true).c_str();
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string value = params[i]->getValue();
      if (value.empty() && std::string(kFields[i].name) == "mqtt_password") continue;
      std::string error;
      if (!enertrack::set_field(config, kFields[i].name, value, error)) problems.push_back(error);
    }
  }
  manager.stopConfigPortal();
  for (size_t i = 0; i < params.size(); ++i) delete params[i];
  return saved;
}

}  // namespace esp32

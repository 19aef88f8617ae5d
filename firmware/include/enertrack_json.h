// The canonical telemetry JSON of docs/payload.md, built by the firmware, the host node and the
// ESPHome package alike (header-only, C++11, no allocation beyond one std::string).
#ifndef ENERTRACK_JSON_H
#define ENERTRACK_JSON_H

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>

namespace enertrack {

// One reading of the meter. NAN means "not measured": the field is left out of the JSON.
struct Measurement {
  float voltage = NAN;       // V
  float current = NAN;       // A
  float power = NAN;         // W
  float energy_kwh = NAN;    // kWh, the meter's cumulative counter
  float power_factor = NAN;  // -1 .. 1
  float frequency = NAN;     // Hz

  bool any() const {
    return std::isfinite(voltage) || std::isfinite(current) || std::isfinite(power) ||
           std::isfinite(energy_kwh) || std::isfinite(power_factor) || std::isfinite(frequency);
  }
};

// Device-health keys (docs/payload.md, "Device health"). A negative number or a null fw omits the key.
struct Health {
  const char* fw = nullptr;  // firmware version, at most 32 characters are sent
  long rssi = 0;             // dBm; sent only when has_rssi
  bool has_rssi = false;
  long long uptime_s = -1;
  long long dropped = -1;
  long long buffered = -1;
};

const std::size_t kFwMaxChars = 32;

// The number with `decimals` digits after the point, trailing zeros trimmed ("230.4", "50", "0.96").
inline std::string format_number(double value, int decimals) {
  char text[320];  // room for any double: DBL_MAX has 309 digits
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  std::string out(text);
  if (out.find('.') != std::string::npos) {
    while (!out.empty() && out[out.size() - 1] == '0') out.erase(out.size() - 1);
    if (!out.empty() && out[out.size() - 1] == '.') out.erase(out.size() - 1);
  }
  if (out == "-0") out = "0";  // a rounded tiny negative must not read as a sign
  return out;
}

namespace detail {

inline void add_number(std::string& json, const char* key, float value, int decimals) {
  if (!std::isfinite(value)) return;  // NaN/Inf are not JSON: a failed read leaves the field out
  json += json.size() > 1 ? ",\"" : "\"";
  json += key;
  json += "\":";
  json += format_number(value, decimals);
}

inline void add_integer(std::string& json, const char* key, long long value) {
  char text[32];
  std::snprintf(text, sizeof text, "%lld", value);
  json += json.size() > 1 ? ",\"" : "\"";
  json += key;
  json += "\":";
  json += text;
}

// fw is compile-time text, but quoting it properly costs little and keeps the JSON strict.
inline void add_string(std::string& json, const char* key, const char* value) {
  json += json.size() > 1 ? ",\"" : "\"";
  json += key;
  json += "\":\"";
  for (std::size_t n = 0; value[n] != '\0' && n < kFwMaxChars; ++n) {
    unsigned char c = static_cast<unsigned char>(value[n]);
    if (c == '"' || c == '\\') {
      json += '\\';
      json += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      json += escaped;
    } else {
      json += static_cast<char>(c);
    }
  }
  json += '"';
}

}  // namespace detail

// The payload for one reading: {"ts":<epoch ms>,"voltage":...,...,"fw":...,"rssi":...}.
// Decimals follow the PZEM-004T's resolution: 0.1 V, 0.001 A, 0.1 W, 0.001 kWh (1 Wh), 0.01, 0.1 Hz.
inline std::string reading_json(long long ts_ms, const Measurement& m, const Health& h) {
  std::string json = "{";
  detail::add_integer(json, "ts", ts_ms);
  detail::add_number(json, "voltage", m.voltage, 1);
  detail::add_number(json, "current", m.current, 3);
  detail::add_number(json, "power", m.power, 1);
  detail::add_number(json, "energy", m.energy_kwh, 3);
  detail::add_number(json, "power_factor", m.power_factor, 2);
  detail::add_number(json, "frequency", m.frequency, 1);
  if (h.fw != nullptr) detail::add_string(json, "fw", h.fw);
  if (h.has_rssi) detail::add_integer(json, "rssi", h.rssi);
  if (h.uptime_s >= 0) detail::add_integer(json, "uptime_s", h.uptime_s);
  if (h.dropped >= 0) detail::add_integer(json, "dropped", h.dropped);
  if (h.buffered >= 0) detail::add_integer(json, "buffered", h.buffered);
  json += "}";
  return json;
}

}  // namespace enertrack

#endif  // ENERTRACK_JSON_H

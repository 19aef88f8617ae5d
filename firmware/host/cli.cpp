#include "cli.h"

#include <stdlib.h>

#include <cmath>

#include "device_config.h"

namespace host {

namespace {

bool to_number(const std::string& text, double low, double high, double& out) {
  char* end = nullptr;
  out = strtod(text.c_str(), &end);
  return !text.empty() && end != nullptr && *end == '\0' && std::isfinite(out) && out >= low && out <= high;
}

bool whole(const std::string& name, const std::string& text, double low, double high, double& out,
           std::string& message) {
  if (to_number(text, low, high, out) && out == std::floor(out)) return true;
  message = name + " must be a whole number from " + std::to_string(static_cast<long long>(low)) + " to " +
            std::to_string(static_cast<long long>(high)) + ", got '" + text + "'";
  return false;
}

// The whole-number options and their ranges.
struct Range {
  const char* flag;
  double low;
  double high;
};
const Range kRanges[] = {{"--port", 1, 65535},          {"--interval", 1, 3600},
                         {"--count", 0, 1e9},           {"--buffer", 1, 1e6},
                         {"--replay-gap-ms", 0, 60000}, {"--puback-timeout-ms", 100, 600000},
                         {"--backoff-max-ms", 100, 3600000}, {"--clock-delay", 0, 3600}};

const Range* find_range(const std::string& flag) {
  for (size_t i = 0; i < sizeof kRanges / sizeof kRanges[0]; ++i)
    if (flag == kRanges[i].flag) return &kRanges[i];
  return nullptr;
}

// Store a checked whole number in the unit the core uses.
void set_number(const std::string& flag, double n, Options& o) {
  if (flag == "--port") o.broker.port = static_cast<int>(n);
  else if (flag == "--interval") o.node.interval_ms = static_cast<uint32_t>(n * 1000);
  else if (flag == "--count") o.node.max_readings = static_cast<uint32_t>(n);
  else if (flag == "--buffer") o.node.buffer_capacity = static_cast<size_t>(n);
  else if (flag == "--replay-gap-ms") o.node.replay_gap_ms = static_cast<uint32_t>(n);
  else if (flag == "--puback-timeout-ms") o.node.puback_timeout_ms = static_cast<uint32_t>(n);
  else if (flag == "--backoff-max-ms") o.node.backoff_max_ms = static_cast<uint32_t>(n);
  else if (flag == "--clock-delay") o.clock_delay_s = n;
}

bool set_text(const std::string& flag, const std::string& value, Options& o) {
  if (flag == "--host") o.broker.host = value;
  else if (flag == "--ca") o.broker.ca_file = value;
  else if (flag == "--user") o.broker.user = value;
  else if (flag == "--password") o.broker.password = value;
  else if (flag == "--node") o.node.node_id = value;
  else if (flag == "--prefix") o.node.topic_prefix = value;
  else return false;
  return true;
}

}  // namespace

const char* usage() {
  return "usage: enertrack-node --host H [--port 8883] --ca FILE [--user U] --password P --node ID\n"
         "                      [--interval S] [--count N] [--prefix enertrack] [--buffer N]\n"
         "                      [--replay-gap-ms MS] [--puback-timeout-ms MS] [--backoff-max-ms MS]\n"
         "                      [--clock-delay S] [--energy KWH]\n"
         "A simulated PZEM-004T publishing like the ESP32 firmware (QoS 1, TLS verified against --ca).\n"
         "--user defaults to the node id; --password may come from ENERTRACK_MQTT_PASSWORD instead.\n"
         "--count N takes N readings, waits until every one is acknowledged, then exits (0: run until SIGTERM).\n";
}

bool parse_options(int argc, char** argv, Options& o, std::string& message, bool& help) {
  help = false;
  const char* env_password = getenv("ENERTRACK_MQTT_PASSWORD");
  if (env_password != nullptr) o.broker.password = env_password;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      help = true;
      return false;
    }
    if (i + 1 >= argc) {
      message = flag + " needs a value";
      return false;
    }
    const std::string value = argv[++i];
    const Range* range = find_range(flag);
    if (range != nullptr) {
      double n = 0;
      if (!whole(flag, value, range->low, range->high, n, message)) return false;
      set_number(flag, n, o);
    } else if (flag == "--energy") {
      if (!to_number(value, 0, 1e6, o.energy_kwh)) {
        message = "--energy must be kWh from 0 to 1000000, got '" + value + "'";
        return false;
      }
    } else if (!set_text(flag, value, o)) {
      message = "unknown option " + flag;
      return false;
    }
  }
  if (o.node.backoff_base_ms > o.node.backoff_max_ms) o.node.backoff_base_ms = o.node.backoff_max_ms;
  const char* required[][2] = {{"--host", o.broker.host.c_str()}, {"--ca", o.broker.ca_file.c_str()},
                               {"--node", o.node.node_id.c_str()}, {"--password", o.broker.password.c_str()}};
  for (size_t i = 0; i < 4; ++i) {
    if (required[i][1][0] == '\0') {
      message = std::string(required[i][0]) + " is required (there is no insecure or anonymous mode)";
      return false;
    }
  }
  enertrack::DeviceConfig check;  // the firmware's own rule for node ids
  if (!enertrack::set_field(check, "node_id", o.node.node_id, message)) {
    message = "--node: " + message;
    return false;
  }
  if (o.broker.user.empty()) o.broker.user = o.node.node_id;
  o.broker.client_id = o.node.node_id;
  return true;
}

}  // namespace host

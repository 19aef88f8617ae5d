#include "cli.h"

#include <stdlib.h>

#include <cmath>

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
  double n = 0;
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
    bool ok = true;
    if (flag == "--host") o.broker.host = value;
    else if (flag == "--port") ok = whole(flag, value, 1, 65535, n, message), o.broker.port = static_cast<int>(n);
    else if (flag == "--ca") o.broker.ca_file = value;
    else if (flag == "--user") o.broker.user = value;
    else if (flag == "--password") o.broker.password = value;
    else if (flag == "--node") o.node.node_id = value;
    else if (flag == "--prefix") o.node.topic_prefix = value;
    else if (flag == "--interval") ok = whole(flag, value, 1, 3600, n, message), o.node.interval_ms = static_cast<uint32_t>(n * 1000);
    else if (flag == "--count") ok = whole(flag, value, 0, 1e9, n, message), o.node.max_readings = static_cast<uint32_t>(n);
    else if (flag == "--buffer") ok = whole(flag, value, 1, 1e6, n, message), o.node.buffer_capacity = static_cast<size_t>(n);
    else if (flag == "--replay-gap-ms") ok = whole(flag, value, 0, 60000, n, message), o.node.replay_gap_ms = static_cast<uint32_t>(n);
    else if (flag == "--puback-timeout-ms") ok = whole(flag, value, 100, 600000, n, message), o.node.puback_timeout_ms = static_cast<uint32_t>(n);
    else if (flag == "--backoff-max-ms") ok = whole(flag, value, 100, 3600000, n, message), o.node.backoff_max_ms = static_cast<uint32_t>(n);
    else if (flag == "--clock-delay") ok = whole(flag, value, 0, 3600, n, message), o.clock_delay_s = n;
    else if (flag == "--energy") {
      ok = to_number(value, 0, 1e6, o.energy_kwh);
      if (!ok) message = "--energy must be kWh from 0 to 1000000, got '" + value + "'";
    } else {
      message = "unknown option " + flag;
      return false;
    }
    if (!ok) return false;
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
  if (o.broker.user.empty()) o.broker.user = o.node.node_id;
  o.broker.client_id = o.node.node_id;
  return true;
}

}  // namespace host

// Device configuration and the serial console: field names, validation, NVS round trip, PEM pasting.
#include <doctest/doctest.h>

#include "../src/core/console.h"
#include "../src/core/device_config.h"
#include "fakes.h"

using enertrack::Console;
using enertrack::DeviceConfig;

namespace {

const std::string kBody = std::string("MIIBdzCCAR2gAwIBAgIUW") + std::string(105, 'A') + "==";  // 128 base64 chars

std::string pem_lines() {
  return "-----BEGIN CERTIFICATE-----\n" + kBody.substr(0, 64) + "\n" + kBody.substr(64) +
         "\n-----END CERTIFICATE-----\n";
}

std::string run_lines(Console& console, const std::vector<std::string>& lines, Console::Action* last = nullptr) {
  std::string all;
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string reply;
    Console::Action action = console.run(lines[i], reply);
    if (last) *last = action;
    all += reply;
  }
  return all;
}

}  // namespace

TEST_CASE("the nine field names are the ones the web snippet and the portal use") {
  const std::vector<std::string> names = enertrack::config_field_names();
  CHECK(names == std::vector<std::string>{"wifi_ssid", "wifi_password", "mqtt_host", "mqtt_port", "mqtt_ca",
                                          "node_id", "mqtt_user", "mqtt_password", "interval_s"});
  for (size_t i = 0; i < names.size(); ++i) CHECK(names[i].size() <= 15);  // NVS keys have at most 15 characters
}

TEST_CASE("fields are checked with a message that says what to send") {
  DeviceConfig config;
  std::string error;
  CHECK_FALSE(enertrack::set_field(config, "mqtt_port", "99999", error));
  CHECK(error.find("1..65535") != std::string::npos);
  CHECK_FALSE(enertrack::set_field(config, "interval_s", "0", error));
  CHECK_FALSE(enertrack::set_field(config, "interval_s", "10s", error));
  CHECK_FALSE(enertrack::set_field(config, "node_id", "meter 1", error));
  CHECK(error.find("A-Z a-z 0-9 _ -") != std::string::npos);
  CHECK_FALSE(enertrack::set_field(config, "mqtt_ca", "hello", error));
  CHECK(error.find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK_FALSE(enertrack::set_field(config, "colour", "red", error));
  CHECK(error.find("unknown field 'colour'") != std::string::npos);
  CHECK(enertrack::set_field(config, "interval_s", "30", error));
  CHECK(config.interval() == 30);
  CHECK(config.port() == 8883);
  CHECK(config.user() == "");
  CHECK(enertrack::set_field(config, "node_id", "meter-1", error));
  CHECK(config.user() == "meter-1");  // EnerTrack's broker user for a node is its id
}

TEST_CASE("a certificate pasted on one line becomes PEM again") {
  std::string pem, error;
  const std::string one_line = "-----BEGIN CERTIFICATE----- " + kBody.substr(0, 50) + " " + kBody.substr(50) +
                               " -----END CERTIFICATE-----";
  REQUIRE(enertrack::normalize_pem(one_line, pem, error));
  CHECK(pem == pem_lines());
  CHECK_FALSE(enertrack::normalize_pem("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", pem, error));
  CHECK(error.find("cut short") != std::string::npos);
  CHECK_FALSE(enertrack::normalize_pem("-----BEGIN CERTIFICATE-----\n" + kBody + "!\n-----END CERTIFICATE-----", pem,
                                       error));
}

TEST_CASE("the configuration survives a save and load through storage, bad stored values are reported") {
  DeviceConfig config;
  std::string error;
  REQUIRE(enertrack::set_field(config, "wifi_ssid", "My Home", error));
  REQUIRE(enertrack::set_field(config, "mqtt_ca", pem_lines(), error));
  REQUIRE(enertrack::set_field(config, "mqtt_password", "s3cret", error));
  fakes::Storage storage;
  REQUIRE(enertrack::save_config(config, storage));
  storage.put("interval_s", "zero");
  DeviceConfig loaded;
  std::vector<std::string> problems;
  enertrack::load_config(loaded, storage, problems);
  CHECK(loaded.wifi_ssid == "My Home");
  CHECK(loaded.mqtt_ca == pem_lines());
  CHECK(loaded.mqtt_password == "s3cret");
  CHECK(loaded.interval_s == "10");
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("interval_s in NVS ignored") == 0);
  CHECK(enertrack::missing_fields(loaded) == std::vector<std::string>{"mqtt_host", "node_id"});
}

TEST_CASE("console: set, show with masked passwords, save") {
  DeviceConfig config;
  Console console(config);
  Console::Action last = Console::kNone;
  const std::string out = run_lines(console, {"set wifi_ssid My Home Wi-Fi", "set wifi_password hunter22", "show"}, &last);
  CHECK(config.wifi_ssid == "My Home Wi-Fi");
  CHECK(out.find("wifi_password = ********") != std::string::npos);
  CHECK(out.find("hunter22") == std::string::npos);
  CHECK(out.find("missing: mqtt_host") != std::string::npos);
  CHECK(last == Console::kNone);
  std::string reply;
  CHECK(console.run("save", reply) == Console::kSave);
  CHECK(console.run("portal", reply) == Console::kPortal);
  CHECK(console.run("reboot", reply) == Console::kReboot);
  CHECK(console.run("set mqtt_port http", reply) == Console::kNone);
  CHECK(reply.find("error: mqtt_port must be") == 0);
  console.run("frobnicate", reply);
  CHECK(reply.find("commands: set <field> <value>") != std::string::npos);
}

TEST_CASE("console: set mqtt_ca takes PEM lines until an empty line") {
  DeviceConfig config;
  Console console(config);
  std::vector<std::string> lines;
  lines.push_back("set mqtt_ca");
  lines.push_back("-----BEGIN CERTIFICATE-----");
  lines.push_back(kBody.substr(0, 64));
  lines.push_back(kBody.substr(64));
  lines.push_back("-----END CERTIFICATE-----");
  lines.push_back("");
  const std::string out = run_lines(console, lines);
  CHECK(out.find("mqtt_ca set") != std::string::npos);
  CHECK(config.mqtt_ca == pem_lines());
}

TEST_CASE("console: bytes become lines on CR, LF or CRLF") {
  DeviceConfig config;
  Console console(config);
  std::vector<std::string> lines;
  const std::string input = "show\r\nsave\nreboot\r\r\n";
  std::string line;
  for (size_t i = 0; i < input.size(); ++i)
    if (console.feed_char(input[i], line)) lines.push_back(line);
  CHECK(lines == std::vector<std::string>{"show", "save", "reboot", ""});
}

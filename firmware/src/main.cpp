// EnerTrack node for an ESP32 + PZEM-004T v3.0: the Arduino glue around the portable core.
// Wiring, flashing and first boot: firmware/README.md.
#include <Arduino.h>
#include <ArduinoOTA.h>
#include <WiFi.h>
#include <esp_task_wdt.h>

#include "core/console.h"
#include "core/device_config.h"
#include "core/node.h"
#include "esp32_ports.h"
#include "portal.h"

#if __has_include("secrets.h")
#include "secrets.h"
#endif

namespace {

const uint8_t kPzemRxPin = 16;    // ESP32 RX2 <- PZEM TX
const uint8_t kPzemTxPin = 17;    // ESP32 TX2 -> PZEM RX
const uint8_t kButtonPin = 0;     // the BOOT button: hold 5 s for the captive portal
const uint32_t kLongPressMs = 5000;
const uint32_t kWatchdogS = 30;   // longer than the slowest blocking step (TLS handshake: 10 s)
const unsigned long kPortalTimeoutS = 600;
const int kRefusalsBeforePortal = 3;  // wrong credentials this many times in a row: ask for new ones

enertrack::DeviceConfig config;
enertrack::Console console(config);
esp32::NvsStorage storage;
esp32::EspClock clock_port;
esp32::EspRandom random_port;
esp32::SerialLog log_port;
esp32::PzemSensor* sensor = nullptr;
esp32::MqttNetwork* network = nullptr;
enertrack::Node* node = nullptr;
uint32_t button_down_since = 0;

void log_line(const std::string& text) { log_port.line(text); }

void prefill_from_secrets() {
  const char* const secrets[][2] = {
#ifdef ENERTRACK_WIFI_SSID
      {"wifi_ssid", ENERTRACK_WIFI_SSID}, {"wifi_password", ENERTRACK_WIFI_PASSWORD},
      {"mqtt_host", ENERTRACK_MQTT_HOST}, {"mqtt_port", ENERTRACK_MQTT_PORT},
      {"mqtt_ca", ENERTRACK_MQTT_CA},     {"node_id", ENERTRACK_NODE_ID},
      {"mqtt_user", ENERTRACK_MQTT_USER}, {"mqtt_password", ENERTRACK_MQTT_PASSWORD},
      {"interval_s", ENERTRACK_INTERVAL_S},
#endif
      {nullptr, nullptr}};
  for (size_t i = 0; secrets[i][0] != nullptr; ++i) {
    std::string error;
    if (secrets[i][1][0] != '\0' && !enertrack::set_field(config, secrets[i][0], secrets[i][1], error))
      log_line("secrets.h: " + error);
  }
}

// Say `offline` ourselves: the Last Will would take 1.5 keep-alives (45 s) to fire.
void reboot() {
  if (node != nullptr) node->shutdown();
  delay(200);
  ESP.restart();
}

void save_and_reboot() {
  log_line(enertrack::save_config(config, storage) ? "configuration saved" : "could not write NVS: nothing saved");
  reboot();
}

// Run one serial command if a whole line arrived; false when the board is about to restart.
bool serial_console() {
  std::string line, reply;
  while (Serial.available() > 0) {
    if (!console.feed_char(static_cast<char>(Serial.read()), line)) continue;
    const enertrack::Console::Action action = console.run(line, reply);
    Serial.print(reply.c_str());
    reply.clear();
    if (action == enertrack::Console::kSave) save_and_reboot();
    if (action == enertrack::Console::kReboot) reboot();
    if (action == enertrack::Console::kPortal) return false;
  }
  return true;
}

bool portal_idle() {
  esp_task_wdt_reset();
  if (node != nullptr) node->loop();  // keep measuring: readings wait in the buffer
  return serial_console();
}

// Regenerated credentials must not need USB inside a mains panel: when the broker keeps refusing
// the password, open the portal for new ones while measuring goes on; nobody saving closes it.
void portal_for_new_credentials() {
  log_line("the broker refuses the credentials: captive portal 'EnerTrack-" + config.node_id +
           "' open for 10 minutes to enter new ones");
  network->forget_refusals();
  std::vector<std::string> problems;
  const bool saved = esp32::run_portal(config, kPortalTimeoutS, portal_idle, problems);
  for (size_t i = 0; i < problems.size(); ++i) log_line("portal: " + problems[i]);
  if (saved) save_and_reboot();
  log_line("captive portal closed without saving: trying the stored credentials again");
  network->forget_refusals();  // reopen only after kRefusalsBeforePortal new refusals
  WiFi.mode(WIFI_STA);
  WiFi.begin(config.wifi_ssid.c_str(), config.wifi_password.c_str());
}

void portal_then_reboot() {
  if (node != nullptr) node->shutdown();  // the portal takes the radio: the broker connection goes
  log_line("captive portal: join the Wi-Fi 'EnerTrack-" + (config.node_id.empty() ? std::string("setup") : config.node_id) +
           "' and open http://192.168.4.1");
  std::vector<std::string> problems;
  const bool saved = esp32::run_portal(config, kPortalTimeoutS, portal_idle, problems);
  for (size_t i = 0; i < problems.size(); ++i) log_line("portal: " + problems[i]);
  if (saved) save_and_reboot();
  log_line("captive portal closed without saving: rebooting");
  reboot();
}

void start_ota() {
  // Firmware over the air on the local network, authenticated with the node's MQTT password;
  // espota sends the image's MD5 and the update is refused when it does not match.
  ArduinoOTA.setHostname(config.node_id.c_str());
  ArduinoOTA.setPassword(config.mqtt_password.c_str());
  ArduinoOTA.onStart([]() { log_line("OTA update starting"); });
  ArduinoOTA.onProgress([](unsigned int, unsigned int) { esp_task_wdt_reset(); });
  ArduinoOTA.onEnd([]() { log_line("OTA update written: rebooting"); });
  ArduinoOTA.onError([](ota_error_t error) { log_line("OTA update failed, error " + std::to_string(error)); });
  ArduinoOTA.begin();
}

void check_button() {
  if (digitalRead(kButtonPin) != LOW) {
    button_down_since = 0;
    return;
  }
  if (button_down_since == 0) button_down_since = millis();
  if (millis() - button_down_since >= kLongPressMs) portal_then_reboot();
}

}  // namespace

void setup() {
  Serial.begin(115200);
  esp_task_wdt_init(kWatchdogS, true);  // Arduino-ESP32 2.x (espressif32 @ 6.x) signature
  esp_task_wdt_add(nullptr);
  pinMode(kButtonPin, INPUT_PULLUP);
  log_line(std::string("EnerTrack node ") + ENERTRACK_FW_VERSION + " starting");
  prefill_from_secrets();
  storage.begin();
  std::vector<std::string> problems;
  enertrack::load_config(config, storage, problems);
  for (size_t i = 0; i < problems.size(); ++i) log_line(problems[i]);
  const std::vector<std::string> missing = enertrack::missing_fields(config);
  for (size_t i = 0; i < missing.size(); ++i) log_line("not configured: " + missing[i]);
  if (!missing.empty()) portal_then_reboot();

  WiFi.mode(WIFI_STA);
  WiFi.setHostname(config.node_id.c_str());
  WiFi.setAutoReconnect(true);
  WiFi.begin(config.wifi_ssid.c_str(), config.wifi_password.c_str());
  configTime(0, 0, "pool.ntp.org", "time.google.com");  // UTC; `ts` is epoch time anyway
  start_ota();

  enertrack::NodeSettings settings;
  settings.node_id = config.node_id;
  settings.interval_ms = config.interval() * 1000;
  sensor = new esp32::PzemSensor(Serial2, kPzemRxPin, kPzemTxPin);
  network = new esp32::MqttNetwork(config);
  node = new enertrack::Node(settings, *sensor, clock_port, *network, random_port, log_port);
  log_line("node " + config.node_id + " -> " + config.mqtt_host + ":" + std::to_string(config.port()) + " every " +
           std::to_string(config.interval()) + " s; buffer " + std::to_string(settings.buffer_capacity) + " readings");
}

void loop() {
  esp_task_wdt_reset();
  ArduinoOTA.handle();
  if (!serial_console()) portal_then_reboot();
  check_button();
  node->loop();
  if (network->refusals() >= kRefusalsBeforePortal) portal_for_new_credentials();
  delay(5);
}

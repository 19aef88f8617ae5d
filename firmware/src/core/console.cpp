#include "console.h"

namespace enertrack {

namespace {

const size_t kMaxLine = 512;  // a PEM line is 64 characters; a password at most 63

std::string trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t");
  return text.substr(first, last - first + 1);
}

const char kHelp[] =
    "commands: set <field> <value> | set mqtt_ca (then the PEM lines, then an empty line) | show | save | portal | "
    "reboot\n"
    "fields: wifi_ssid wifi_password mqtt_host mqtt_port mqtt_ca node_id mqtt_user mqtt_password interval_s\n";

}  // namespace

bool Console::feed_char(char c, std::string& line) {
  if (c == '\r' || c == '\n') {
    // CRLF: the LF after a CR would end an empty line, which ends a PEM paste too early.
    if (c == '\n' && last_was_cr_) {
      last_was_cr_ = false;
      return false;
    }
    last_was_cr_ = c == '\r';
    line = partial_;
    partial_.clear();
    return true;
  }
  last_was_cr_ = false;
  if (partial_.size() < kMaxLine) partial_ += c;
  return false;
}

Console::Action Console::run(const std::string& raw, std::string& reply) {
  const std::string line = trim(raw);
  if (pem_mode_) {
    if (!line.empty()) {
      pem_ += line + "\n";
      return kNone;
    }
    pem_mode_ = false;
    std::string error;
    reply = set_field(config_, "mqtt_ca", pem_, error) ? "mqtt_ca set (not saved yet: type save)\n" : "error: " + error + "\n";
    pem_.clear();
    return kNone;
  }
  if (line.empty()) return kNone;
  if (line == "show") {
    reply = show(config_);
    const std::vector<std::string> missing = missing_fields(config_);
    for (size_t i = 0; i < missing.size(); ++i) reply += "missing: " + missing[i] + "\n";
    return kNone;
  }
  if (line == "save") {
    reply = "saving to NVS and rebooting\n";
    return kSave;
  }
  if (line == "portal") {
    reply = "starting the captive portal\n";
    return kPortal;
  }
  if (line == "reboot") {
    reply = "rebooting (unsaved changes are lost)\n";
    return kReboot;
  }
  if (line == "set mqtt_ca") {
    pem_mode_ = true;
    pem_.clear();
    reply = "paste the CA certificate (PEM), then send an empty line\n";
    return kNone;
  }
  if (line.compare(0, 4, "set ") == 0) {
    const std::string rest = trim(line.substr(4));
    const size_t space = rest.find(' ');
    const std::string name = rest.substr(0, space);
    // Everything after the first space is the value, inner spaces included (an SSID may have them).
    const std::string value = space == std::string::npos ? "" : trim(rest.substr(space + 1));
    std::string error;
    if (set_field(config_, name, value, error)) reply = name + " set (not saved yet: type save)\n";
    else reply = "error: " + error + "\n";
    return kNone;
  }
  reply = std::string("unknown command '") + line + "'\n" + kHelp;
  return kNone;
}

}  // namespace enertrack

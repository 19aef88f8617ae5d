// The serial console: `set <field> <value>`, `set mqtt_ca` + PEM lines + an empty line, `show`,
// `save`, `portal`, `reboot` (115200 baud, one command per line).
#ifndef ENERTRACK_CONSOLE_H
#define ENERTRACK_CONSOLE_H

#include <string>

#include "device_config.h"

namespace enertrack {

class Console {
 public:
  enum Action { kNone, kSave, kPortal, kReboot };

  explicit Console(DeviceConfig& config) : config_(config) {}

  // Collect bytes from the serial port; true when `line` holds a complete line (CR, LF or CRLF).
  bool feed_char(char c, std::string& line);
  // Run one line; what to print goes to `reply`, what the board must do is returned.
  Action run(const std::string& line, std::string& reply);

 private:
  DeviceConfig& config_;
  std::string partial_;
  bool pem_mode_ = false;
  bool last_was_cr_ = false;
  std::string pem_;
};

}  // namespace enertrack

#endif  // ENERTRACK_CONSOLE_H

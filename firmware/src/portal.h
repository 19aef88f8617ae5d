// The captive portal (WiFiManager): an access point "EnerTrack-<node>" with a form for every field.
#ifndef ENERTRACK_PORTAL_H
#define ENERTRACK_PORTAL_H

#include <string>
#include <vector>

#include "core/device_config.h"

namespace esp32 {

// Serve the portal until the form is saved (true) or timeout_s passes (false). While waiting it
// calls `idle` (feed the watchdog, run the serial console); idle returning false ends the wait.
// Fields the form got wrong are listed in `problems` and left unchanged.
bool run_portal(enertrack::DeviceConfig& config, unsigned long timeout_s, bool (*idle)(),
                std::vector<std::string>& problems);

}  // namespace esp32

#endif  // ENERTRACK_PORTAL_H

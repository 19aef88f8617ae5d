// The host node's command line (firmware/README.md, "Host node").
#ifndef ENERTRACK_HOST_CLI_H
#define ENERTRACK_HOST_CLI_H

#include <string>

#include "mosquitto_network.h"
#include "node.h"

namespace host {

struct Options {
  BrokerSettings broker;
  enertrack::NodeSettings node;
  double clock_delay_s = 0;   // pretend NTP answers this late
  double energy_kwh = 1000;  // the simulated meter's counter at start
};

// Parse argv; false with a one-line message (and the usage for --help, with help set).
bool parse_options(int argc, char** argv, Options& options, std::string& message, bool& help);
const char* usage();

}  // namespace host

#endif  // ENERTRACK_HOST_CLI_H

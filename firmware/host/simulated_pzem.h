// A PZEM-004T that is not there: plausible, smoothly varying values and a counter that only grows.
#ifndef ENERTRACK_HOST_SIMULATED_PZEM_H
#define ENERTRACK_HOST_SIMULATED_PZEM_H

#include <cmath>

#include "ports.h"

namespace host {

class SimulatedPzem : public enertrack::Sensor {
 public:
  SimulatedPzem(enertrack::Clock& clock, double energy_kwh) : clock_(clock), energy_kwh_(energy_kwh) {}

  enertrack::Measurement read() override {
    const double t = clock_.monotonic_ms() / 1000.0;
    enertrack::Measurement m;
    const double two_pi = 6.283185307179586;
    m.voltage = static_cast<float>(230.0 + 4.0 * std::sin(two_pi * t / 90.0));
    m.current = static_cast<float>(1.5 + 1.0 * std::sin(two_pi * t / 45.0));
    m.power_factor = static_cast<float>(0.9 + 0.05 * std::sin(t / 20.0));
    m.power = m.voltage * m.current * m.power_factor;
    m.frequency = static_cast<float>(50.0 + 0.05 * std::sin(t / 30.0));
    if (last_t_ >= 0) energy_kwh_ += m.power * (t - last_t_) / 3.6e6;
    last_t_ = t;
    m.energy_kwh = static_cast<float>(energy_kwh_);
    return m;
  }

 private:
  enertrack::Clock& clock_;
  double energy_kwh_;
  double last_t_ = -1;
};

}  // namespace host

#endif  // ENERTRACK_HOST_SIMULATED_PZEM_H

// Stub of mandulaj/PZEM-004T-v30 1.1 for the ESP32 (declarations only).
#ifndef STUB_PZEM004TV30_H
#define STUB_PZEM004TV30_H

#include "Arduino.h"

#define PZEM_DEFAULT_ADDR 0xF8

class PZEM004Tv30 {
 public:
  PZEM004Tv30(HardwareSerial& port, uint8_t receivePin, uint8_t transmitPin, uint8_t addr = PZEM_DEFAULT_ADDR);
  float voltage();
  float current();
  float power();
  float energy();
  float frequency();
  float pf();
};

#endif

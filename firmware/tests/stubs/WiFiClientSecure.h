// Stub of the ESP32 WiFiClientSecure (2.x). Deliberately without setInsecure(): calling it would
// not compile here, and the firmware must never turn certificate checks off.
#ifndef STUB_WIFICLIENTSECURE_H
#define STUB_WIFICLIENTSECURE_H

#include "WiFi.h"

class WiFiClientSecure : public WiFiClient {
 public:
  void setCACert(const char* rootCA);
  void setHandshakeTimeout(unsigned long handshake_timeout);
  int lastError(char* buf, const size_t size);
  void stop() override;
};

#endif

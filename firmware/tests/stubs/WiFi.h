// Stub of the ESP32 WiFi library (declarations only).
#ifndef STUB_WIFI_H
#define STUB_WIFI_H

#include "Arduino.h"

typedef enum { WL_IDLE_STATUS = 0, WL_CONNECTED = 3, WL_DISCONNECTED = 6 } wl_status_t;
typedef enum { WIFI_OFF = 0, WIFI_STA = 1, WIFI_AP = 2, WIFI_AP_STA = 3 } wifi_mode_t;

class Client : public Stream {
 public:
  virtual int connect(const char* host, uint16_t port) = 0;
  virtual uint8_t connected() = 0;
  virtual void stop() = 0;
};

class WiFiClient : public Client {
 public:
  int connect(const char* host, uint16_t port) override;
  uint8_t connected() override;
  void stop() override;
};

class WiFiClass {
 public:
  bool mode(wifi_mode_t mode);
  wl_status_t begin(const char* ssid, const char* passphrase = nullptr, int32_t channel = 0,
                    const uint8_t* bssid = nullptr, bool connect = true);
  wl_status_t status();
  int8_t RSSI();
  bool setAutoReconnect(bool autoReconnect);
  bool setHostname(const char* hostname);
};
extern WiFiClass WiFi;

#endif

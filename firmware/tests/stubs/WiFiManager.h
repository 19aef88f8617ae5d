// Stub of tzapu/WiFiManager 2.0 (declarations only, the library's signatures).
#ifndef STUB_WIFIMANAGER_H
#define STUB_WIFIMANAGER_H

#include <functional>

#include "WiFi.h"

class WiFiManagerParameter {
 public:
  WiFiManagerParameter(const char* id, const char* label, const char* defaultValue, int length, const char* custom);
  ~WiFiManagerParameter();
  const char* getValue() const;
};

class WiFiManager {
 public:
  bool addParameter(WiFiManagerParameter* p);
  void setSaveParamsCallback(std::function<void()> func);
  void setSaveConfigCallback(std::function<void()> func);
  void setBreakAfterConfig(bool shouldBreak);
  void setConfigPortalBlocking(bool shouldBlock);
  void setConfigPortalTimeout(unsigned long seconds);
  bool startConfigPortal(char const* apName, char const* apPassword = nullptr);
  bool process();
  bool stopConfigPortal();
  String getWiFiSSID(bool persistent = true);
  String getWiFiPass(bool persistent = true);
};

#endif

// Stub of the ESP32 Preferences (NVS) library (declarations only).
#ifndef STUB_PREFERENCES_H
#define STUB_PREFERENCES_H

#include "Arduino.h"

class Preferences {
 public:
  bool begin(const char* name, bool readOnly = false, const char* partition_label = nullptr);
  bool isKey(const char* key);
  size_t putString(const char* key, const char* value);
  String getString(const char* key, String defaultValue = String());
};

#endif

// Stub of the ESP32 ArduinoOTA library (declarations only).
#ifndef STUB_ARDUINOOTA_H
#define STUB_ARDUINOOTA_H

#include <functional>

#include "Arduino.h"

typedef enum { OTA_AUTH_ERROR, OTA_BEGIN_ERROR, OTA_CONNECT_ERROR, OTA_RECEIVE_ERROR, OTA_END_ERROR } ota_error_t;

class ArduinoOTAClass {
 public:
  typedef std::function<void(void)> THandlerFunction;
  typedef std::function<void(ota_error_t)> THandlerFunction_Error;
  typedef std::function<void(unsigned int, unsigned int)> THandlerFunction_Progress;
  ArduinoOTAClass& setHostname(const char* hostname);
  ArduinoOTAClass& setPassword(const char* password);
  ArduinoOTAClass& onStart(THandlerFunction fn);
  ArduinoOTAClass& onEnd(THandlerFunction fn);
  ArduinoOTAClass& onError(THandlerFunction_Error fn);
  ArduinoOTAClass& onProgress(THandlerFunction_Progress fn);
  void begin();
  void handle();
};
extern ArduinoOTAClass ArduinoOTA;

#endif

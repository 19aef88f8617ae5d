// Stub of 256dpi/arduino-mqtt 2.5 (MQTTClient), declarations with the library's signatures.
#ifndef STUB_MQTT_H
#define STUB_MQTT_H

#include "WiFi.h"

typedef enum { LWMQTT_SUCCESS = 0, LWMQTT_NETWORK_FAILED_CONNECT = -3, LWMQTT_CONNECTION_DENIED = -10 } lwmqtt_err_t;
typedef enum {
  LWMQTT_CONNECTION_ACCEPTED = 0,
  LWMQTT_SERVER_UNAVAILABLE = 3,
  LWMQTT_BAD_USERNAME_OR_PASSWORD = 4,
  LWMQTT_NOT_AUTHORIZED = 5
} lwmqtt_return_code_t;

class MQTTClient {
 public:
  explicit MQTTClient(int bufSize = 128);
  void begin(const char _hostname[], int _port, Client& _client);
  void setWill(const char topic[], const char payload[], bool retained, int qos);
  void setKeepAlive(int keepAlive);
  void setCleanSession(bool cleanSession);
  void setTimeout(int timeout);
  bool connect(const char clientID[], const char username[], const char password[], bool skip = false);
  bool publish(const char topic[], const char payload[], int length, bool retained, int qos);
  bool loop();
  bool connected();
  lwmqtt_err_t lastError();
  lwmqtt_return_code_t returnCode();
  bool disconnect();
};

#endif

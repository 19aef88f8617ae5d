// Stub of the ESP32 Arduino core (2.x): declarations only, with the real signatures of what
// src/*.cpp calls, so `make firmware` type-checks the Arduino layer. Nothing here runs.
#ifndef STUB_ARDUINO_H
#define STUB_ARDUINO_H

#include <stddef.h>
#include <stdint.h>

#include <string>

#define ESP_ARDUINO_VERSION_MAJOR 2
#define LOW 0x0
#define HIGH 0x1
#define INPUT_PULLUP 0x05
#define SERIAL_8N1 0x800001c

class String {
 public:
  String(const char* text = "");
  const char* c_str() const;
  unsigned int length() const;
};

class Print {
 public:
  virtual ~Print() {}
  size_t print(const char* text);
  size_t println(const char* text);
  size_t printf(const char* format, ...) __attribute__((format(printf, 2, 3)));
};

class Stream : public Print {
 public:
  virtual int available();
  virtual int read();
};

class HardwareSerial : public Stream {
 public:
  void begin(unsigned long baud, uint32_t config = SERIAL_8N1, int8_t rxPin = -1, int8_t txPin = -1);
};

extern HardwareSerial Serial;
extern HardwareSerial Serial2;

class EspClass {
 public:
  void restart();
};
extern EspClass ESP;

unsigned long millis();
void delay(uint32_t ms);
void pinMode(uint8_t pin, uint8_t mode);
int digitalRead(uint8_t pin);
void configTime(long gmtOffset_sec, int daylightOffset_sec, const char* server1, const char* server2 = nullptr,
                const char* server3 = nullptr);

#endif

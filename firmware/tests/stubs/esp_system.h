// Stub of ESP-IDF's esp_system.h.
#ifndef STUB_ESP_SYSTEM_H
#define STUB_ESP_SYSTEM_H
#include <stdint.h>
uint32_t esp_random(void);
#endif

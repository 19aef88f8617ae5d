// Stub of ESP-IDF 4.4's task watchdog (the IDF under Arduino-ESP32 2.x).
#ifndef STUB_ESP_TASK_WDT_H
#define STUB_ESP_TASK_WDT_H

#include <stdint.h>

typedef int esp_err_t;
typedef void* TaskHandle_t;
esp_err_t esp_task_wdt_init(uint32_t timeout, bool panic);
esp_err_t esp_task_wdt_add(TaskHandle_t handle);
esp_err_t esp_task_wdt_reset(void);

#endif

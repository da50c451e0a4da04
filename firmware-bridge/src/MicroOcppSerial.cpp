#if defined(ARDUINO)

#include "MicroOcppSerial.h"

#include <stdarg.h>
#include <stdio.h>

#if defined(ESP_PLATFORM)
#include <freertos/FreeRTOS.h>
#include <freertos/semphr.h>
#endif

namespace cbridge {

MicroOcppSerialConnection::UartWriter::UartWriter(Stream &uart) : uart_(uart), mutex_(nullptr) {
#if defined(ESP_PLATFORM)
  mutex_ = xSemaphoreCreateRecursiveMutex();
#endif
}

MicroOcppSerialConnection::UartWriter::~UartWriter() {
#if defined(ESP_PLATFORM)
  if (mutex_) vSemaphoreDelete(static_cast<SemaphoreHandle_t>(mutex_));
#endif
}

void MicroOcppSerialConnection::UartWriter::lock() {
#if defined(ESP_PLATFORM)
  if (mutex_) xSemaphoreTakeRecursive(static_cast<SemaphoreHandle_t>(mutex_), portMAX_DELAY);
#endif
}

void MicroOcppSerialConnection::UartWriter::unlock() {
#if defined(ESP_PLATFORM)
  if (mutex_) xSemaphoreGiveRecursive(static_cast<SemaphoreHandle_t>(mutex_));
#endif
}

MicroOcppSerialConnection::MicroOcppSerialConnection(Stream &uart, const BridgeConfig &config)
    : writer_(uart), link_(config, writer_) {
  link_.onMessage([this](const char *msg, size_t len) {
    lastRecv_ = millis();
    if (receiveTXT_) receiveTXT_(msg, len);
  });
}

MicroOcppSerialConnection::~MicroOcppSerialConnection() {}

void MicroOcppSerialConnection::loop() {
  // Drain the UART receive buffer every mocpp_loop(): this is what keeps the gateway's window moving.
  uint8_t buf[128];
  Stream &uart = writer_.uart();
  int available;
  while ((available = uart.available()) > 0) {
    size_t n = uart.readBytes(buf, available < static_cast<int>(sizeof buf) ? static_cast<size_t>(available) : sizeof buf);
    if (n == 0) break;
    link_.receive(buf, n, millis());
  }
  link_.poll(millis());
}

bool MicroOcppSerialConnection::sendTXT(const char *msg, size_t length) { return link_.send(msg, length, millis()); }

void MicroOcppSerialConnection::setReceiveTXTcallback(MicroOcpp::ReceiveTXTcallback &receiveTXT) { receiveTXT_ = receiveTXT; }

void MicroOcppSerialConnection::debugPrintf(const char *fmt, ...) {
  char line[256];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(line, sizeof line - 1, fmt, args);
  va_end(args);
  if (n < 0) return;
  size_t len = static_cast<size_t>(n) < sizeof line - 1 ? static_cast<size_t>(n) : sizeof line - 2;
  if (len == 0 || line[len - 1] != '\n') line[len++] = '\n';
  writer_.lock();
  writer_.write(reinterpret_cast<const uint8_t *>(line), len);
  writer_.unlock();
}

}  // namespace cbridge

#endif  // ARDUINO

// Host stand-in for the few Arduino declarations MicroOcppSerial uses, so run-host-tests.sh can compile the
// adapter and catch interface mistakes without an ESP32 toolchain. Not a behavioural model.
#ifndef CBRIDGE_STUB_ARDUINO_H
#define CBRIDGE_STUB_ARDUINO_H
#include <stddef.h>
#include <stdint.h>
unsigned long millis();
class Stream {
 public:
  virtual ~Stream() {}
  virtual int available() = 0;
  virtual size_t readBytes(uint8_t *buffer, size_t length) = 0;
  virtual size_t write(const uint8_t *buffer, size_t size) = 0;
};
#endif

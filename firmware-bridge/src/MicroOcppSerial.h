// MicroOcpp (v1.x) transport over a UART using the chargebridge serial protocol. Arduino only; the protocol
// itself lives in the portable cbridge_link / cbridge_codec files.
#ifndef CBRIDGE_MICROOCPP_SERIAL_H
#define CBRIDGE_MICROOCPP_SERIAL_H

#if defined(ARDUINO)

#include <Arduino.h>
#include <MicroOcpp/Core/Connection.h>

#include "cbridge_link.h"

namespace cbridge {

/**
 * A MicroOcpp::Connection that carries OCPP-J over `uart` (usually Serial, the USB port) framed for the
 * chargebridge gateway. The same UART can keep carrying the firmware's debug prints: the gateway files them in
 * the board's device log. Prints from other FreeRTOS tasks should go through debugPrintf() so they cannot land in
 * the middle of a frame line.
 */
class MicroOcppSerialConnection : public MicroOcpp::Connection {
 public:
  /** `config.rxWindow` must not exceed the UART's receive buffer (HardwareSerial::setRxBufferSize). */
  MicroOcppSerialConnection(Stream &uart, const BridgeConfig &config);
  ~MicroOcppSerialConnection() override;

  void loop() override;
  bool sendTXT(const char *msg, size_t length) override;
  void setReceiveTXTcallback(MicroOcpp::ReceiveTXTcallback &receiveTXT) override;
  unsigned long getLastRecv() override { return lastRecv_; }
  unsigned long getLastConnected() override { return link_.lastUpMs(); }
  bool isConnected() override { return link_.isUp(); }

  /** printf to the shared UART as one whole line, safe from any task. */
  void debugPrintf(const char *fmt, ...) __attribute__((format(printf, 2, 3)));

  const BridgeLink &link() const { return link_; }

 private:
  class UartWriter : public ByteWriter {
   public:
    explicit UartWriter(Stream &uart);
    ~UartWriter() override;
    void write(const uint8_t *data, size_t len) override { uart_.write(data, len); }
    void lock() override;
    void unlock() override;
    Stream &uart() { return uart_; }

   private:
    Stream &uart_;
    void *mutex_;
  };

  UartWriter writer_;
  BridgeLink link_;
  MicroOcpp::ReceiveTXTcallback receiveTXT_;
  unsigned long lastRecv_ = 0;
};

}  // namespace cbridge

#endif  // ARDUINO
#endif

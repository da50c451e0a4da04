// The board's side of the serial link (docs/serial-protocol.md §5–7): hello until the gateway answers, keepalive,
// link-down detection, receive-window acknowledgements. Portable: bytes in through receive(), bytes out through
// a ByteWriter, time passed in as milliseconds. The Arduino MicroOcpp Connection wraps this.
#ifndef CBRIDGE_LINK_H
#define CBRIDGE_LINK_H

#include <stddef.h>
#include <stdint.h>

#include <functional>

#include "cbridge_codec.h"
#include "cbridge_protocol.h"

namespace cbridge {

class ByteWriter {
 public:
  virtual ~ByteWriter() {}
  virtual void write(const uint8_t *data, size_t len) = 0;
  /** Called around each frame line, e.g. to hold a lock so debug prints from other tasks cannot split it. */
  virtual void lock() {}
  virtual void unlock() {}
};

struct BridgeConfig {
  const char *chargeBoxId = "";
  /** Bytes the board's UART receive buffer holds (HardwareSerial::setRxBufferSize); the gateway never has more
   * unacknowledged bytes in flight. */
  uint32_t rxWindow = 256;
  /** Longest line the board accepts; the gateway chunks longer messages. */
  uint32_t maxLine = 256;
  /** Largest message the board reassembles. */
  uint32_t maxMessage = 8192;
  uint32_t helloIntervalMs = 1000;
  /** Acknowledge after this long without new bytes (and whenever an eighth of the window is used). */
  uint32_t ackDelayMs = 5;
  /** Highest protocol version offered in the hello (1..kProtocolVersion). The link speaks min(this, gateway's). */
  uint32_t protocolVersion = kProtocolVersion;
};

struct BridgeStats {
  uint32_t messagesIn = 0, messagesOut = 0, corrupt = 0, dropped = 0, linkUps = 0, linkDowns = 0;
};

class BridgeLink : private DecoderSink {
 public:
  using MessageHandler = std::function<void(const char *msg, size_t len)>;
  using StateHandler = std::function<void(bool up)>;

  BridgeLink(const BridgeConfig &config, ByteWriter &out);
  ~BridgeLink() override;
  BridgeLink(const BridgeLink &) = delete;
  BridgeLink &operator=(const BridgeLink &) = delete;

  void onMessage(MessageHandler handler) { messageHandler_ = handler; }
  void onState(StateHandler handler) { stateHandler_ = handler; }

  /** Bytes read from the UART. */
  void receive(const uint8_t *data, size_t len, uint32_t nowMs);
  /** Timers: hello, keepalive, acknowledgements, silence. Call often (every loop). */
  void poll(uint32_t nowMs);
  /** Sends one OCPP-J message; false while the link is down (MicroOcpp retries later). An unsendable message
   * is dropped (stats().dropped) and reported as sent. */
  bool send(const char *msg, size_t len, uint32_t nowMs);

  bool isUp() const { return up_; }
  uint32_t lastUpMs() const { return lastUpMs_; }
  const BridgeStats &stats() const { return stats_; }
  /** Protocol version agreed with the gateway (0 while down). */
  uint32_t version() const { return up_ ? version_ : 0; }

 private:
  class Out;
  void onMessage(const uint8_t *msg, size_t len) override;
  void onControl(const Control &control) override;
  void onCorrupt(Corrupt reason) override;
  void setUp(bool up);
  void sendHello();
  void sendControl(char kind, const char *const *tokens, size_t count);
  void sendAck();

  BridgeConfig config_;
  uint32_t offered_;
  ByteWriter &writer_;
  Out *out_;
  uint8_t *lineBuf_;
  uint8_t *msgBuf_;
  Decoder decoder_;
  MessageHandler messageHandler_;
  StateHandler stateHandler_;
  BridgeStats stats_;

  uint32_t now_ = 0;
  bool up_ = false;
  uint32_t version_ = 0;
  uint32_t peerMaxLine_ = 256;
  uint32_t peerMaxMessage_ = 65536;
  uint32_t keepaliveMs_ = 2000;
  uint32_t msgNo_ = 0;
  bool helloSent_ = false;
  uint32_t helloDueMs_ = 0;
  uint32_t lastHelloMs_ = 0;
  uint32_t lastUpMs_ = 0;
  uint32_t lastRxValidMs_ = 0;
  uint32_t lastRxByteMs_ = 0;
  uint32_t lastTxMs_ = 0;
  uint32_t consumed_ = 0;
  uint32_t acked_ = 0;
};

}  // namespace cbridge

#endif

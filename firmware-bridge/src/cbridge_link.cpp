#include "cbridge_link.h"

#include <stdio.h>
#include <string.h>

#include "cbridge_protocol.h"

namespace cbridge {

// Forwards encoded lines to the ByteWriter, holding its lock for the whole line.
class BridgeLink::Out : public LineWriter {
 public:
  explicit Out(ByteWriter &w) : w_(w) {}
  void beginLine() override { w_.lock(); }
  void write(const uint8_t *data, size_t len) override { w_.write(data, len); }
  void endLine() override { w_.unlock(); }

 private:
  ByteWriter &w_;
};

namespace {
// Wrap-safe "a is at least b ms after c".
bool elapsed(uint32_t now, uint32_t since, uint32_t ms) { return static_cast<uint32_t>(now - since) >= ms; }
uint32_t offeredVersion(uint32_t configured) {
  return configured < 1 ? 1 : configured > kProtocolVersion ? kProtocolVersion : configured;
}
}  // namespace

BridgeLink::BridgeLink(const BridgeConfig &config, ByteWriter &out)
    : config_(config),
      offered_(offeredVersion(config.protocolVersion)),
      writer_(out),
      out_(new Out(out)),
      lineBuf_(new uint8_t[config.maxLine < kMinLine ? kMinLine : config.maxLine]),
      msgBuf_(new uint8_t[config.maxMessage]),
      decoder_(lineBuf_, config.maxLine < kMinLine ? kMinLine : config.maxLine, msgBuf_, config.maxMessage, offered_, *this) {}

BridgeLink::~BridgeLink() {
  delete out_;
  delete[] lineBuf_;
  delete[] msgBuf_;
}

void BridgeLink::receive(const uint8_t *data, size_t len, uint32_t nowMs) {
  now_ = nowMs;
  if (len == 0) return;
  lastRxByteMs_ = nowMs;
  decoder_.push(data, len);
  consumed_ += static_cast<uint32_t>(len);
  if (up_ && consumed_ - acked_ >= config_.rxWindow / 8) sendAck();
}

void BridgeLink::poll(uint32_t nowMs) {
  now_ = nowMs;
  if (!up_) {
    if (!helloSent_ || static_cast<int32_t>(nowMs - helloDueMs_) >= 0) sendHello();
    return;
  }
  if (elapsed(nowMs, lastRxValidMs_, 3 * keepaliveMs_)) {
    setUp(false);
    helloDueMs_ = nowMs;
    return;
  }
  if (consumed_ != acked_ && elapsed(nowMs, lastRxByteMs_, config_.ackDelayMs)) sendAck();
  if (elapsed(nowMs, lastTxMs_, keepaliveMs_)) sendControl(kKindKeepalive, nullptr, 0);
}

bool BridgeLink::send(const char *msg, size_t len, uint32_t nowMs) {
  now_ = nowMs;
  if (!up_) return false;
  // Unsendable messages (over the gateway's limit, or holding the mark byte, which no valid JSON does) are
  // dropped: "retry later" would block MicroOcpp's queue behind them for good.
  size_t lines = len > peerMaxMessage_ ? 0 : encodeMessage(reinterpret_cast<const uint8_t *>(msg), len, peerMaxLine_, msgNo_, version_, *out_);
  if (lines == 0) {
    stats_.dropped++;
    return true;
  }
  if (lines > 1) msgNo_ = (msgNo_ + 1) % kChunkMsgModulo;
  lastTxMs_ = nowMs;
  stats_.messagesOut++;
  return true;
}

void BridgeLink::onMessage(const uint8_t *msg, size_t len) {
  lastRxValidMs_ = now_;
  if (!up_) return;  // not ours to deliver before the gateway said "up"
  stats_.messagesIn++;
  if (messageHandler_) messageHandler_(reinterpret_cast<const char *>(msg), len);
}

void BridgeLink::onControl(const Control &c) {
  lastRxValidMs_ = now_;
  switch (c.kind) {
    case kKindUp: {
      uint32_t v = c.number("v", 0);
      if (v == 0) return;
      version_ = v < offered_ ? v : offered_;
      peerMaxLine_ = c.number("mtu", 256);
      if (peerMaxLine_ < kMinLine) peerMaxLine_ = kMinLine;
      peerMaxMessage_ = c.number("max", 65536);
      keepaliveMs_ = c.number("ka", 2000);
      if (keepaliveMs_ < 100) keepaliveMs_ = 100;
      if (!up_) setUp(true);
      return;
    }
    case kKindDown:
      if (up_) setUp(false);
      // Answer soon, but never more than five hellos a second however many downs arrive.
      helloDueMs_ = lastHelloMs_ + 200;
      return;
    default:
      return;  // K refreshes liveness above; A and unknown kinds need nothing from the board
  }
}

void BridgeLink::onCorrupt(Corrupt) { stats_.corrupt++; }

void BridgeLink::setUp(bool up) {
  up_ = up;
  if (up) {
    lastUpMs_ = now_;
    stats_.linkUps++;
  } else {
    stats_.linkDowns++;
  }
  if (stateHandler_) stateHandler_(up);
}

void BridgeLink::sendHello() {
  char v[16], id[80], fw[24], rx[24], mtu[24], max[24];
  snprintf(v, sizeof v, "v=%u", static_cast<unsigned>(offered_));
  snprintf(id, sizeof id, "id=%s", config_.chargeBoxId);
  snprintf(fw, sizeof fw, "fw=%s", kBridgeVersion);
  snprintf(rx, sizeof rx, "rx=%u", static_cast<unsigned>(config_.rxWindow));
  snprintf(mtu, sizeof mtu, "mtu=%u", static_cast<unsigned>(config_.maxLine));
  snprintf(max, sizeof max, "max=%u", static_cast<unsigned>(config_.maxMessage));
  const char *tokens[] = {v, id, fw, rx, mtu, max};
  // The acknowledgement count restarts with every hello; the gateway resets its count when it reads one.
  consumed_ = 0;
  acked_ = 0;
  sendControl(kKindHello, tokens, 6);
  helloSent_ = true;
  lastHelloMs_ = now_;
  helloDueMs_ = now_ + config_.helloIntervalMs;
}

void BridgeLink::sendControl(char kind, const char *const *tokens, size_t count) {
  encodeControl(kind, tokens, count, *out_);
  lastTxMs_ = now_;
}

void BridgeLink::sendAck() {
  char n[12];
  snprintf(n, sizeof n, "%lu", static_cast<unsigned long>(consumed_));
  const char *tokens[] = {n};
  acked_ = consumed_;
  sendControl(kKindAck, tokens, 1);
}

}  // namespace cbridge

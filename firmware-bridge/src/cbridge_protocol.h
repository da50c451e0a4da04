// Constants of the chargebridge serial protocol (docs/serial-protocol.md); src/serial/protocol.ts holds the same.
#ifndef CBRIDGE_PROTOCOL_H
#define CBRIDGE_PROTOCOL_H

#include <stdint.h>

namespace cbridge {

static const char kBridgeVersion[] = "0.1.0";
// Highest protocol version this library speaks. 1: the original lines. 2: leaner M and C lines (no space after the
// kind, CRC-32 as 6 base64url characters); control lines keep the version 1 form in every version.
static const uint32_t kProtocolVersion = 2;

static const uint8_t kMark = 0x1e;  // ASCII RS: starts every frame line
static const uint8_t kLf = 0x0a;
static const uint8_t kCr = 0x0d;

static const char kKindMessage = 'M';
static const char kKindChunk = 'C';
static const char kKindHello = 'H';
static const char kKindUp = 'U';
static const char kKindDown = 'D';
static const char kKindKeepalive = 'K';
static const char kKindAck = 'A';

static const uint32_t kChunkMsgModulo = 65536;
static const uint32_t kMinLine = 64;

}  // namespace cbridge

#endif

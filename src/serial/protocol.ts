// Constants of the serial framing protocol (docs/serial-protocol.md). Shared by the codec, the session and tests;
// firmware-bridge/src/cbridge_protocol.h holds the same values for the board.

/** ASCII Record Separator: starts every frame line. Never appears in log text or in valid JSON. */
export const MARK = 0x1e;
export const LF = 0x0a;
export const CR = 0x0d;

/**
 * Highest protocol version this gateway speaks. 1: the original lines. 2: leaner M and C lines (no space after
 * the kind, CRC-32 as 6 base64url characters); control lines keep the version 1 form in every version.
 */
export const PROTOCOL_VERSION = 2;

/** Line kinds (the byte after MARK). */
export const Kind = {
  /** One whole OCPP-J message. */
  message: 'M',
  /** One chunk of a message too long for the receiver's line limit. */
  chunk: 'C',
  /** Board → gateway: chargeBoxId, bridge version, receive window, limits. */
  hello: 'H',
  /** Gateway → board: link is up, negotiated version and the gateway's limits. */
  up: 'U',
  /** Either side: link is going down (reason). */
  down: 'D',
  /** Either side: keepalive, sent after `ka` ms without any other line. */
  keepalive: 'K',
  /** Board → gateway: cumulative count of bytes the board has taken out of its receive buffer. */
  ack: 'A',
} as const;
export type KindChar = (typeof Kind)[keyof typeof Kind];

/** Limits a board announces when its hello omits them (the firmware-bridge defaults). */
export const BOARD_DEFAULTS = { rx: 256, mtu: 256, max: 8192 } as const;

/** Chunk message numbers wrap here. */
export const CHUNK_MSG_MODULO = 65536;

/** chargeBoxIds a hello may carry: visible ASCII, no spaces, 1..64 characters. */
export const CHARGE_BOX_ID_RE = /^[\x21-\x7e]{1,64}$/;

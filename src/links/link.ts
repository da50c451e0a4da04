// A station link: one charging station's OCPP-J message stream, whatever carries it (WebSocket, serial, simulator).
// The relay sees only this interface.
import type { LinkKind } from '../events/catalogue.js';

/** WebSocket close codes the gateway uses on every kind of link (serial and sim map them to their own signals). */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  policyViolation: 1008,
  tooBig: 1009,
  internalError: 1011,
  tryAgainLater: 1013,
} as const;
/** From this size a link hands a text message over as bytes (`messageBytes`): 64 KiB, far above any real OCPP frame. */
export const LARGE_MESSAGE_BYTES = 64 * 1024;

export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode] | number;

export interface StationLinkHandlers {
  /** Exactly one complete OCPP-J text message. */
  message(text: string): void;
  /**
   * A text message of at least LARGE_MESSAGE_BYTES, still as its (valid) UTF-8 bytes: the relay decodes it only when
   * it may pass. Links that have the bytes call this instead of `message` when it is set.
   */
  messageBytes?(bytes: Buffer): void;
  /** A frame the link could not carry as text (binary WebSocket frame, corrupt serial frame). Observed, never relayed. */
  refused?(description: string, closeCode?: number): void;
  /** The link is gone; called once. */
  close(code: number, reason: string): void;
}

export interface StationLink {
  readonly chargeBoxId: string;
  readonly kind: LinkKind;
  readonly remoteAddress?: string | undefined;
  /** Largest message (UTF-8 bytes) the station said it accepts, when it announced one (serial boards do). */
  readonly maxMessageBytes?: number | undefined;
  /** Registers the handlers; the link delivers nothing before this is called. */
  attach(handlers: StationLinkHandlers): void;
  /** Sends one complete OCPP-J message. Never throws; a dead link drops it. */
  send(text: string): void;
  /** Closes the link with a reason; triggers handlers.close once. */
  close(code: CloseCodeValue, reason: string): void;
  /** Drops the link without a close frame (fault injection's abrupt cut); links that cannot, lack it. */
  terminate?(reason: string): void;
  /** Stops reading from the station until resume(): back-pressure, the station's later frames wait in TCP. A few
   * frames already read may still be delivered. Links that cannot, lack both. */
  pause?(): void;
  resume?(): void;
}

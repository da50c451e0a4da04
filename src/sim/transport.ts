// How a simulated station reaches a central system. The station only ever sees this: connect, send text,
// get text, learn that the connection opened or dropped. WebSocket and in-process links implement it.

export interface SimConnectionHandlers {
  open(): void;
  /** One complete OCPP-J message from the central system. */
  message(text: string): void;
  /** The connection is gone (or never opened); called once. */
  close(code: number, reason: string): void;
}

export interface SimConnection {
  /** false when the connection cannot carry the message (not open any more). */
  send(text: string): boolean;
  /** Station-side close. `abrupt` drops it like a lost network (no close handshake). */
  close(code: number, reason: string, abrupt?: boolean): void;
}

export interface SimTransportOptions {
  /** HTTP Basic password, when the endpoint wants one. */
  readonly password?: string;
}

export interface SimTransport {
  readonly kind: 'ws' | 'link';
  connect(chargeBoxId: string, handlers: SimConnectionHandlers, options?: SimTransportOptions): SimConnection;
}

// The upstream of one station: SteVe over WebSocket, or the embedded local central system.
// The relay sees only this interface.
import type { Frame } from '../ocpp/frames.js';

export type UpstreamKind = 'steve' | 'local';

/** Why an upstream could not be opened or went away, in words a bench user can act on. */
export type UpstreamFailure =
  | { readonly kind: 'refused'; readonly httpStatus: number; readonly message: string }
  | { readonly kind: 'unreachable'; readonly message: string }
  | { readonly kind: 'closed'; readonly code: number; readonly message: string };

export interface UpstreamHandlers {
  open(): void;
  message(text: string): void;
  /** Called once, whether the upstream never opened or closed later. */
  close(failure: UpstreamFailure): void;
}

export interface Upstream {
  readonly kind: UpstreamKind;
  /**
   * Sends one OCPP-J message; only called after open(). `frame` is the relay's own parse of `text` when it has one
   * (the embedded central system answers from it instead of parsing the text a second time). `bytes` is the same
   * message as the station's link delivered it (large frames): a socket writes those instead of encoding `text` again.
   */
  send(text: string, frame?: Frame, bytes?: Buffer): void;
  close(code: number, reason: string): void;
}

export type UpstreamFactory = (chargeBoxId: string, handlers: UpstreamHandlers) => Upstream;

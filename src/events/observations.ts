// What the links and the relay report about frames and links. Copies for observers (message log, metrics,
// wire-event extraction, live frame stream), produced after the frame has already been forwarded.
import type { LinkKind } from './catalogue.js';
import type { Frame, FrameProblemKind, MessageTypeName } from '../ocpp/frames.js';

/** Which socket the frame crossed: the station's link or the upstream (SteVe, or the embedded central system). */
export type Leg = 'station' | 'upstream';
/** Relative to the gateway. */
export type Direction = 'in' | 'out';
/** Who wrote the frame. */
export type Origin = 'station' | 'steve' | 'local-cs' | 'gateway' | 'mirror';
/**
 * forwarded: relayed to the other leg; refused: dropped (malformed, unknown answer id, binary);
 * answered: a CALLERROR the gateway wrote itself; own: a call the gateway made and its answer;
 * injected: a fault rule acted on the frame (dropped, delayed, duplicated, held, corrupted, answered in its place);
 * mirror: a frame on a mirror upstream's leg (src/mirror): its answers (discarded), its calls (refused or relayed)
 * and what the gateway wrote back to it. Observers that follow the real session skip these.
 */
export type Disposition = 'forwarded' | 'refused' | 'answered' | 'own' | 'local' | 'injected' | 'mirror';

/** The fault rule that acted on an `injected` frame (src/relay/faults). */
export interface FaultMark {
  readonly ruleId: string;
  readonly kind: string;
}

export interface FrameObservation {
  /** Wall-clock time in microseconds since the epoch. */
  readonly atUs: number;
  readonly chargeBoxId: string;
  readonly linkKind: LinkKind;
  readonly leg: Leg;
  readonly direction: Direction;
  readonly origin: Origin;
  readonly disposition: Disposition;
  /** The exact text (binary frames: "<binary N bytes>"). */
  readonly raw: string;
  readonly messageType?: MessageTypeName;
  readonly action?: string;
  readonly messageId?: string;
  /** Time the gateway held the frame before writing it to the other leg, in microseconds (forwarded frames). */
  readonly forwardUs?: number;
  /** For answers: round trip since the paired CALL, in milliseconds. */
  readonly rttMs?: number;
  /** Why a frame was refused or what is wrong with it at the framing level. */
  readonly problem?: string;
  /**
   * Why the relay refused the frame, when its parse did: judged on the whole text, where `raw` may keep only its
   * first part (the log takes its finding from this instead of parsing `raw` again).
   */
  readonly problemKind?: FrameProblemKind;
  /** Set on `injected` frames: the rule that acted; `problem` says what it did. */
  readonly fault?: FaultMark;
  /** Set on `mirror` frames: the id of the mirror upstream. */
  readonly mirror?: string;
  /** The relay's own parse of `raw`, shared read-only so observers need not parse it again. Never logged. */
  readonly frame?: Frame;
  /**
   * Set when `raw` is only the first part of a large frame that went on as the station's bytes (the relay never
   * had the rest as text): the frame's size in bytes. `frame` then carries no payload (a CALLERROR no details).
   */
  readonly rawBytes?: number;
}

export interface Finding {
  readonly rule: string;
  readonly field?: string;
  readonly message: string;
}

/** A message-log entry: an observation (less the parsed frame) with its monotonic id, payload and findings. */
export interface LogEntry extends Omit<FrameObservation, 'frame'> {
  readonly id: number;
  readonly time: string; // ISO 8601 with microseconds
  readonly payload?: unknown;
  readonly findings: readonly Finding[];
  /** The frame's size in bytes when `raw` holds only its first part (finding frame.too-large). */
  readonly rawBytes?: number;
}

export type UpstreamState = 'connecting' | 'open' | 'closed' | 'local';

export type LinkStateChange =
  | {
      readonly kind: 'connected';
      readonly chargeBoxId: string;
      readonly linkKind: LinkKind;
      /** Where this station's frames go: SteVe or the embedded central system. */
      readonly upstream: 'steve' | 'local';
      readonly remoteAddress?: string;
      readonly at: string;
    }
  | { readonly kind: 'upstream'; readonly chargeBoxId: string; readonly state: UpstreamState; readonly detail?: string; readonly at: string }
  | { readonly kind: 'disconnected'; readonly chargeBoxId: string; readonly linkKind: LinkKind; readonly code: number; readonly reason: string; readonly at: string }
  | { readonly kind: 'callTimeout'; readonly chargeBoxId: string; readonly leg: Leg; readonly action: string; readonly messageId: string; readonly at: string };

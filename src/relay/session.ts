// One station's session in the relay: its link and upstream, the calls in flight both ways, the gateway's own calls
// waiting for it, frames waiting for the upstream to open, counters. State only (and what /api/stations shows of it): the relay acts on it.
import type { UpstreamState } from '../events/observations.js';
import type { StationLink } from '../links/link.js';
import type { Upstream } from '../upstream/upstream.js';
import type { StationFaults } from './faults/index.js';
import type { InFlightOwnCall, OwnCall } from './own-calls.js';
import type { StationInfo, StationMirror } from './relay-options.js';
import { PendingCalls } from './pending-calls.js';
import type { StationInbox } from './station-inbox.js';

export type CallOutcome =
  | { readonly kind: 'result'; readonly payload: unknown; readonly rttMs: number }
  | { readonly kind: 'error'; readonly code: string; readonly description: string; readonly details: unknown; readonly rttMs: number }
  | { readonly kind: 'timeout' }
  /** The link went before an answer came: the station closed it, the upstream failed, or the gateway ended it. */
  | { readonly kind: 'disconnected'; readonly side: DisconnectSide; readonly reason: string };

/** Which side ended a station's session: 'gateway' covers shutdown, replacement and the gateway's own limits. */
export type DisconnectSide = 'station' | 'upstream' | 'gateway';

export class StationSession {
  readonly fromStation = new PendingCalls();
  readonly toStation = new PendingCalls();
  readonly ownQueue: OwnCall[] = [];
  ownQueueBytes = 0;
  ownInFlight: InFlightOwnCall | undefined;
  upstream: Upstream | undefined;
  upstreamState: UpstreamState = 'connecting';
  /** Frames from the station that arrived while the upstream was still opening. */
  waiting: string[] = [];
  /** Total length of `waiting`, against upstreamQueueBytes. */
  waitingBytes = 0;
  closed = false;
  readonly connectedSince = new Date().toISOString();
  lastFrameAt: number | undefined;
  lastError: string | undefined;
  readonly counters = { fromStation: 0, toStation: 0, refused: 0, timeouts: 0 };
  /** Set only while the station has fault rules: otherwise one undefined check per frame. */
  faults: StationFaults | undefined;
  /** Set only when mirror upstreams follow the station. */
  mirror: StationMirror | undefined;

  /** The station's frames waiting behind a large one on the decoder's thread. */
  readonly inbox: StationInbox;

  constructor(
    readonly link: StationLink,
    inboxFor: (s: StationSession) => StationInbox,
  ) {
    this.inbox = inboxFor(this);
  }
}

/** What /api/stations shows of a session. */
export function stationInfo(s: StationSession): StationInfo {
  return {
    chargeBoxId: s.link.chargeBoxId,
    linkKind: s.link.kind,
    ...(s.link.remoteAddress !== undefined ? { remoteAddress: s.link.remoteAddress } : {}),
    connectedSince: s.connectedSince,
    upstream: s.upstreamState,
    ...(s.lastFrameAt !== undefined ? { lastFrameAt: new Date(s.lastFrameAt).toISOString() } : {}),
    counters: { ...s.counters },
    pendingCalls: { fromStation: s.fromStation.size, toStation: s.toStation.size },
    ...(s.lastError !== undefined ? { lastError: s.lastError } : {}),
  };
}

/** Close reasons travel in a WebSocket close frame: at most 123 bytes. */
export function closeReason(text: string): string {
  const buf = Buffer.from(text);
  return buf.length <= 123 ? text : buf.subarray(0, 120).toString('utf8').replace(/\uFFFD$/, '') + '...';
}

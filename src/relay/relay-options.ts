// What the relay is built with, what it reports per station, and its fixed limits.
import type pino from 'pino';
import type { LinkKind } from '../events/catalogue.js';
import type { UpstreamState } from '../events/observations.js';
import type { UpstreamFactory, UpstreamKind } from '../upstream/upstream.js';
import type { FrameTap } from './frame-tap.js';
import type { OwnCallIds } from './own-call-ids.js';

export interface StationInfo {
  readonly chargeBoxId: string;
  readonly linkKind: LinkKind;
  readonly remoteAddress?: string;
  readonly connectedSince: string;
  readonly upstream: UpstreamState;
  readonly lastFrameAt?: string;
  readonly counters: { readonly fromStation: number; readonly toStation: number; readonly refused: number; readonly timeouts: number };
  readonly pendingCalls: { readonly fromStation: number; readonly toStation: number };
  readonly lastError?: string;
}

/** Read-only copies for mirror upstreams (src/mirror): handed text already written, O(1) work each. */
export interface StationMirror {
  /** Whether a mirror follows the station now (then it is given the text of the station's calls). */
  readonly active: boolean;
  /** A station CALL, after it went to the upstream. */
  fromStation(text: string): void;
  /** The upstream's answer to a station CALL, after it went to the station. */
  fromUpstream(text: string): void;
  close(): void;
}

export interface RelayOptions {
  readonly upstreams: UpstreamFactory;
  /** Opens a station's mirror upstreams when it attaches (none: no mirror work at all). */
  readonly mirrors?: (chargeBoxId: string, linkKind: LinkKind) => StationMirror | undefined;
  readonly upstreamKind: UpstreamKind;
  readonly tap: FrameTap;
  /**
   * The most of a frame any observer keeps as text (MESSAGE_LOG_MAX_RAW_BYTES): a larger station frame comes back
   * from the decoder's thread as its first part only (relay.ts, #head).
   */
  readonly observedRawBytes?: number;
  readonly logger: pino.Logger;
  readonly callTimeoutMs: number;
  readonly upstreamQueueLimit: number;
  /** Characters of frames allowed to wait per station while its upstream opens (default 16 Mi). */
  readonly upstreamQueueBytes?: number;
  /** Message ids for the gateway's own calls (unique across restarts). */
  readonly ownCallIds: OwnCallIds;
  /** Bytes of own calls that may wait for one station (the one in flight not counted); default 1 MiB. */
  readonly ownCallQueueBytes?: number;
}

export const OWN_CALL_QUEUE_BYTES = 1024 * 1024;

export const DEFAULT_UPSTREAM_QUEUE_BYTES = 16 * 1024 * 1024;

/** A refused frame is observed (logged, streamed) as its first this many characters: enough to see what is wrong. */
export const REFUSED_RAW_CHARS = 4096;

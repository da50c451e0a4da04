// The messages between the relay's thread and the mirror worker (worker-thread.ts). Frames travel in batches: one
// message per event-loop turn at most, the turn's frames as one transferred buffer of UTF-8 texts joined by NUL
// (a byte no valid JSON text holds; the relay mirrors only frames that parsed) and one Int32Array of routing pairs
// (copied: the relay side keeps it until the worker reports the batch taken). Everything else is rare and travels
// as plain objects.
import type { MirrorLimits, MirrorSpec } from './config.js';
import type { MirrorLinkStats } from './link.js';

/** Routing of one frame of a batch: to every link of a station, or to one link. */
export const ROUTE_FROM_STATION = 0;
export const ROUTE_FROM_UPSTREAM = 1;
export const ROUTE_TO_LINK = 2;

/** One batch: `routes` holds (target, route) per frame; target is a station number, or a link number for ROUTE_TO_LINK. */
export interface FrameBatch {
  readonly op: 'frames';
  readonly texts: Uint8Array;
  readonly routes: Int32Array;
  /** When the batch's first frame was queued (ms since epoch): the start of its frames' lag. */
  readonly at: number;
}

/** The part of a spec the worker uses (no REST fields, and the CA already read). */
export interface LinkSetup {
  readonly url: string;
  readonly mirrorChargeBoxId: string;
  readonly username?: string;
  readonly password?: string;
  readonly ca?: Uint8Array;
  readonly queueBytes: number;
  readonly answers: boolean;
  readonly logAnswers: boolean;
}

export type ToWorker =
  | FrameBatch
  | { readonly op: 'open'; readonly link: number; readonly station: number; readonly chargeBoxId: string; readonly setup: LinkSetup }
  | { readonly op: 'close'; readonly link: number }
  /** Report now; the answer carries `seq`. */
  | { readonly op: 'stats'; readonly seq: number }
  /** Tests only: make the worker fail the way a defect would. */
  | { readonly op: 'fault'; readonly kind: 'crash' | 'stall' };

/** Per link, the numbers of LINK_STAT_FIELDS in order, after the link number. */
export const LINK_STAT_FIELDS = ['state', 'lagMs', 'queued', 'queuedBytes', 'sent', 'dropped', 'reconnects', 'answersDiscarded'] as const;
export const LINK_STATES: readonly MirrorLinkStats['state'][] = ['connecting', 'open', 'backoff', 'closed'];
export const STAT_STRIDE = 1 + LINK_STAT_FIELDS.length;

export type FromWorker =
  /**
   * Periodic, also when nothing changed (it doubles as the worker's heartbeat): rows of STAT_STRIDE numbers for the
   * links that changed, the last error of links whose error changed, the bytes and the number of batches taken so
   * far (the relay side counts the frames of batches not taken as dropped if the worker fails), and the last
   * `stats` request answered.
   */
  | { readonly op: 'stats'; readonly rows: Float64Array; readonly errors: readonly (readonly [number, string | null])[]; readonly bytesTaken: number; readonly batchesTaken: number; readonly refusedBatches: number; readonly seq: number }
  /** A link closed by the relay's side: its last numbers (one row), so totals stay exact. */
  | { readonly op: 'closed'; readonly row: Float64Array }
  /** A frame a mirror sent that the relay's side must handle (a call, or an answer to log). */
  | { readonly op: 'frame'; readonly link: number; readonly text: string };

export interface WorkerSetup {
  readonly limits: MirrorLimits;
}

export function linkSetup(spec: MirrorSpec, chargeBoxId: string, limits: MirrorLimits, ca: Uint8Array | undefined): LinkSetup {
  return {
    url: spec.url,
    mirrorChargeBoxId: spec.rename[chargeBoxId] ?? chargeBoxId,
    ...(spec.username !== undefined ? { username: spec.username } : {}),
    ...(spec.password !== undefined ? { password: spec.password } : {}),
    ...(ca ? { ca } : {}),
    queueBytes: spec.queueBytes ?? limits.queueBytes,
    answers: spec.answers,
    logAnswers: spec.logAnswers,
  };
}

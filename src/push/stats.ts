// Push counters: what GET /api/push/stats, the metrics push and the Prometheus registry report.
import type { AuthRefusalCode, Role } from './jwt.js';

export interface ClientDrops {
  readonly id: string;
  readonly sub: string;
  readonly role: Role;
  /** Things waiting on our side: stations behind, replays, summaries, frames. */
  readonly queued: number;
  /** Gap notices sent, and the events they covered. */
  readonly gaps: number;
  readonly eventsDropped: number;
  readonly framesDropped: number;
}

export interface PushStats {
  readonly clients: { readonly total: number; readonly operators: number; readonly viewers: number };
  readonly subscriptions: {
    /** Socket–station pairs (explicit station subscriptions). */
    readonly stations: number;
    /** Sockets subscribed to every station. */
    readonly all: number;
    /** Sockets following the fleet feed. */
    readonly fleet: number;
    readonly frames: number;
    readonly metrics: number;
  };
  /** fleet: `fleet` messages (each one tick's changed stations). */
  readonly pushed: { readonly events: number; readonly summaries: number; readonly fleet: number; readonly frames: number; readonly metrics: number };
  readonly dropped: {
    /** Events a client did not get because the history no longer held them when it drained: each in a `gap` notice. */
    readonly eventsDropped: number;
    readonly framesDropped: number;
    /** Summaries / metrics samples replaced by a newer one before a backed-up client read them. */
    readonly summariesReplaced: number;
  };
  readonly disconnects: { readonly slowConsumer: number; readonly tokenExpired: number };
  readonly authRefusals: Readonly<Partial<Record<AuthRefusalCode, number>>>;
  /** Clients that lost something, worst first (at most 20). */
  readonly clientsWithDrops: readonly ClientDrops[];
}

/** Mutable tallies owned by the push server. */
export class PushCounters {
  events = 0;
  summaries = 0;
  fleet = 0;
  frames = 0;
  metrics = 0;
  eventsDropped = 0;
  framesDropped = 0;
  summariesReplaced = 0;
  slowConsumer = 0;
  tokenExpired = 0;
  readonly authRefusals: Partial<Record<AuthRefusalCode, number>> = {};

  refused(code: AuthRefusalCode): void {
    this.authRefusals[code] = (this.authRefusals[code] ?? 0) + 1;
  }
}

/**
 * What a viewer may see of the push statistics (GET /api/health): the counts, and of the per-client rows only its
 * own (same subject). Subjects and socket ids of other clients stay with operators (GET /api/push/stats).
 */
export function viewerPushStats(stats: PushStats, sub: string | undefined): PushStats {
  return { ...stats, clientsWithDrops: sub === undefined ? [] : stats.clientsWithDrops.filter((c) => c.sub === sub) };
}

// How long events wait before a node appends them to the shared stream, and how long a node waits between reads.
// On the machines measured a node's wake-up (a Redis reply, a timer firing after the process went idle) costs more
// CPU than the events it carries (BENCHMARKS.md, "Cluster"): a paced read wakes a node twice (the reply, then the
// timer), a lingering append twice too (the timer, then the reply). So:
// - while someone waits for events (push clients, webhooks), a lone event is appended and read at once (one wake-up
//   each); batches of `batchMs` only once events come faster than that, where they save round trips;
// - while nobody does, appends and reads wait `quietMs` and carry everything that came meanwhile.
// Appends look at every node (a peer's clients wait for this node's events), reads at this node alone.

export interface PacingConfig {
  readonly batchMs: number;
  /** 0: never quiet (always as if someone waited). */
  readonly quietMs: number;
}

export interface Pacing {
  /** ms the outbox waits, given the events queued and the size of its last batch (0: in this turn of the loop). */
  linger(queued: number, lastBatch: number): number;
  /** ms between reads, given the entries the last read returned. */
  interval(got: number): number;
}

export function streamPacing(config: PacingConfig, wantedHere: () => boolean, wantedAnywhere: () => boolean): Pacing {
  const pace = (eager: boolean, several: boolean): number => {
    if (!eager && config.quietMs > 0) return Math.max(config.batchMs, config.quietMs);
    return several ? config.batchMs : 0;
  };
  return {
    linger: (queued, lastBatch) => pace(wantedAnywhere(), queued > 1 || lastBatch > 1),
    interval: (got) => pace(wantedHere(), got > 1),
  };
}

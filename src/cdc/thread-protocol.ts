// Messages between the main thread and the binlog reader's thread (worker.ts ↔ threaded.ts).
import type { Checkpoint } from './checkpoint.js';
import type { CdcConfig } from './config.js';
import type { CdcHealth } from './reader.js';

export interface ThreadSetup {
  readonly config: CdcConfig;
  /** Where to resume: the last checkpoint the main thread saved (undefined: take a snapshot). */
  readonly checkpoint: Checkpoint | undefined;
  readonly checkpointFile: string;
  readonly logLevel: string;
}

export type ToThread = { readonly kind: 'stop' };

export type ThreadMetric = { readonly name: 'reconnects' } | { readonly name: 'snapshots'; readonly reason: string } | { readonly name: 'unmapped'; readonly table: string };

export type FromThread =
  /**
   * The events of one or more transactions, in order, as one JSON text in UTF-8 (batch-codec.ts), its buffer transferred (a
   * structured clone would walk every object, and even one large string is copied), then the checkpoint to save
   * once they are on the bus.
   */
  | { readonly kind: 'batch'; readonly events: Uint8Array | undefined; readonly checkpoint: Checkpoint | undefined; readonly durable: boolean; readonly health: CdcHealth }
  | { readonly kind: 'health'; readonly health: CdcHealth }
  | { readonly kind: 'metric'; readonly metric: ThreadMetric }
  /** A pino line of the thread's logger, written again by the main thread's. */
  | { readonly kind: 'log'; readonly line: string }
  /** start() returned; `error`: it threw (a configuration problem: the reader will not work with this server). */
  | { readonly kind: 'started'; readonly error?: { readonly message: string; readonly code?: string; readonly details?: Record<string, unknown> } }
  | { readonly kind: 'stopped' };

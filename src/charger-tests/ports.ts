// What the runner needs from the rest of the gateway, as narrow ports; the composition root (src/gateway.ts)
// wires them to the relay, the test central system and the simulator. The runner imports none of those.
import type { SimAction } from '../sim/spec.js';
import type { TestCsSettings } from '../upstream/test-cs/index.js';
import type { FaultsPort } from '../relay/faults/index.js';

/** Fault injection on the relay (src/relay/faults): a case's `fault` steps set rules, removed when it ends. */
export type { FaultsPort };

/** The outcome of the gateway's own call. Kinds other than these three (added later) are reported as they are. */
export type OwnCallOutcome =
  | { readonly kind: 'result'; readonly payload: unknown }
  | { readonly kind: 'error'; readonly code: string; readonly description: string }
  | { readonly kind: 'timeout' }
  | { readonly kind: string };

export interface StationCalls {
  /** Rejects when the station is not connected. */
  call(chargeBoxId: string, action: string, payload: unknown, opts: { timeoutMs: number }): Promise<OwnCallOutcome>;
  connected(chargeBoxId: string): boolean;
}

/** The test central system, as far as a run on one station may change it: that station's answers only. */
export interface TestCsPort {
  overrideOf(chargeBoxId: string): TestCsSettings | undefined;
  updateFor(chargeBoxId: string, raw: unknown, where?: string): TestCsSettings;
  restoreFor(chargeBoxId: string, override: TestCsSettings | undefined): void;
}

/** Hands on the hardware: a simulated station acts by itself. */
export interface Hands {
  simulated(chargeBoxId: string): boolean;
  /** Station seconds per real second: the simulator's clock speed for simulated stations, 1 for real boards. */
  timeScale(chargeBoxId: string): number;
  /** The station's clock (ms since the epoch) when it is known to differ from the wall clock (a simulator's fast clock). */
  clockNow?(chargeBoxId: string): number;
  act(chargeBoxId: string, action: SimAction): Promise<{ readonly ok: boolean; readonly message?: string }>;
}

export type AskAnswer = 'done' | 'skipped' | 'timeout';

/** Asks a person at the bench (terminal or UI, through REST / Socket.IO) and waits for the answer. */
export type AskOperator = (prompt: string, timeoutMs: number, signal: AbortSignal) => Promise<AskAnswer>;

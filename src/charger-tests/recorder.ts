// The frames of one station while a case runs, from the message log's 'logged' channel (so every frame has its
// log id). It subscribes only while a case runs: nothing of the test machinery is on the bus otherwise.
// Bounded by a byte budget; frames over it are counted, and the case result says so.
import type { Bus } from '../events/bus.js';
import type { LogEntry } from '../events/observations.js';
import type { ConformanceFinding } from '../events/conformance.js';
import type { EvidenceFrame } from './result.js';

/** A call the station sent, with the central system's answer once it came. */
export interface StationCall {
  readonly logId: number;
  readonly atUs: number;
  readonly action: string;
  readonly messageId: string;
  readonly payload: unknown;
  answer?: { readonly logId: number; readonly atUs: number; readonly payload: unknown; readonly error?: string };
}

export const RECORDER_BYTE_BUDGET = 8 * 1024 * 1024;
const MAX_FINDINGS = 100;

function flowOf(e: LogEntry): string {
  if (e.leg === 'station') return e.direction === 'in' ? (e.disposition === 'own' ? 'station→gateway' : 'station→cs') : e.origin === 'gateway' ? 'gateway→station' : 'cs→station';
  return e.direction === 'in' ? 'cs→station' : 'station→cs';
}

export function evidenceOf(e: LogEntry): EvidenceFrame {
  return {
    logId: e.id,
    time: e.time,
    flow: flowOf(e),
    ...(e.messageType !== undefined ? { messageType: e.messageType } : {}),
    ...(e.action !== undefined ? { action: e.action } : {}),
    raw: e.raw.length > 2000 ? `${e.raw.slice(0, 2000)}…` : e.raw,
  };
}

export class FrameRecorder {
  /** Every logged frame of the station, in order. */
  readonly entries: LogEntry[] = [];
  /** The station's CALLs to the central system, in order, with their answers. */
  readonly calls: StationCall[] = [];
  /** Passive conformance findings on this station's frames (at most MAX_FINDINGS). */
  readonly findings: ConformanceFinding[] = [];
  dropped = 0;
  #bytes = 0;
  readonly #waiters = new Set<() => void>();
  readonly #offs: (() => void)[];

  constructor(bus: Bus, readonly chargeBoxId: string) {
    this.#offs = [
      bus.on('logged', (e) => {
        if (e.chargeBoxId === chargeBoxId) this.#add(e);
      }),
      bus.on('conformance', (f) => {
        if (f.chargeBoxId === chargeBoxId && this.findings.length < MAX_FINDINGS) this.findings.push(f);
      }),
    ];
  }

  #add(e: LogEntry): void {
    if (this.#bytes + e.raw.length > RECORDER_BYTE_BUDGET) {
      this.dropped++;
      return;
    }
    this.#bytes += e.raw.length;
    this.entries.push(e);
    // A fault rule that answered the station in place of the central system: its call and answer count as a pair.
    const ruleAnswered = e.disposition === 'injected' && e.fault?.kind === 'answer';
    const answer = e.messageType === 'CALLRESULT' || e.messageType === 'CALLERROR';
    if (e.leg === 'station' && e.direction === 'in' && e.messageType === 'CALL' && (e.disposition === 'forwarded' || ruleAnswered) && e.action && e.messageId) {
      this.calls.push({ logId: e.id, atUs: e.atUs, action: e.action, messageId: e.messageId, payload: e.payload });
    } else if (answer && e.messageId && ((e.leg === 'upstream' && e.direction === 'in' && e.disposition !== 'injected' && e.disposition !== 'mirror') || (ruleAnswered && e.leg === 'station' && e.direction === 'out'))) {
      // The newest unanswered call with this id: ids repeat across reboots on some firmware.
      for (let i = this.calls.length - 1; i >= 0; i--) {
        const c = this.calls[i]!;
        if (c.messageId === e.messageId && !c.answer) {
          c.answer = { logId: e.id, atUs: e.atUs, payload: e.payload, ...(e.messageType === 'CALLERROR' ? { error: e.raw } : {}) };
          break;
        }
      }
    }
    for (const w of [...this.#waiters]) w();
  }

  byId(logId: number): LogEntry | undefined {
    // Entries are in id order: binary search.
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const id = this.entries[mid]!.id;
      if (id === logId) return this.entries[mid];
      if (id < logId) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The log id of the station's answer to one of the gateway's own calls. */
  ownAnswerId(messageId: string): number | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.disposition === 'own' && e.direction === 'in' && e.messageId === messageId) return e.id;
    }
    return undefined;
  }

  /** The log id of the gateway's own call with this message id (sent to the station). */
  ownCallId(messageId: string): number | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.disposition === 'own' && e.direction === 'out' && e.messageId === messageId) return e.id;
    }
    return undefined;
  }

  /** Resolves on the next frame or after `ms`, whichever comes first. */
  next(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.add(done);
    });
  }

  close(): void {
    for (const off of this.#offs) off();
    for (const w of [...this.#waiters]) w();
  }
}

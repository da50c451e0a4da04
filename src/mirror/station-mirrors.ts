// The mirror upstreams of one connected station: the relay hands each of them its copies here, and what a mirror
// sends is handled here: its answers are discarded, its calls refused with a CALLERROR unless the mirror may send
// that action, in which case it goes to the station as a call of the gateway's own and the answer back to that
// mirror only. Every frame on a mirror's leg is observed with disposition `mirror`.
import type { LinkKind, Mutable } from '../events/catalogue.js';
import type { Direction, FrameObservation, Leg, Origin } from '../events/observations.js';
import { CALL, encodeCallError, encodeCallResult, messageTypeName, parseFrame, type Frame } from '../ocpp/frames.js';
import { clip } from '../ocpp/wire-text.js';
import { redactAnswerPayload } from '../relay/authorization-key.js';
import { nowUs } from '../relay/frame-tap.js';
import type { CallOutcome, StationMirror } from '../relay/relay.js';
import type { MirrorSpec } from './config.js';
import type { LinkHandle, MirrorWorker } from './link-worker.js';

/** Sends a call to a station as the gateway's own (the relay's `call`). */
export type StationCalls = (chargeBoxId: string, action: string, payload: unknown) => Promise<CallOutcome>;

export interface MirrorCounters {
  answersDiscarded: number;
  callsRefused: number;
  callsRelayed: number;
}

export interface MirrorEntry {
  readonly spec: MirrorSpec;
  /** The link, held by the mirror worker. */
  readonly link: LinkHandle;
  readonly counters: MirrorCounters;
}

export interface StationMirrorsDeps {
  readonly chargeBoxId: string;
  readonly linkKind: LinkKind;
  readonly worker: MirrorWorker;
  /** The station's number with the worker. */
  readonly station: number;
  readonly calls: StationCalls;
  readonly observe: (obs: FrameObservation) => void;
  /** Runs once when the station leaves, before its links close (their counters go into the totals). */
  readonly onClose: (station: StationMirrors) => void;
}

export class StationMirrors implements StationMirror {
  readonly #deps: StationMirrorsDeps;
  /** Replaced, never mutated, when mirrors come and go. */
  #entries: readonly MirrorEntry[] = [];
  /** Whether any mirror takes the primary's answers. */
  #answers = false;

  constructor(deps: StationMirrorsDeps) {
    this.#deps = deps;
  }

  /** The station's number with the mirror worker. */
  get number(): number {
    return this.#deps.station;
  }

  get entries(): readonly MirrorEntry[] {
    return this.#entries;
  }

  add(entry: MirrorEntry): void {
    this.#set([...this.#entries, entry]);
  }

  remove(id: string): void {
    const gone = this.#entries.filter((e) => e.spec.id === id);
    this.#set(this.#entries.filter((e) => e.spec.id !== id));
    for (const e of gone) this.#deps.worker.close(e.link);
  }

  get active(): boolean {
    return this.#entries.length > 0;
  }

  /** One push onto the worker's batch for all the station's mirrors: the worker fans it out. */
  fromStation(text: string): void {
    if (this.#entries.length) this.#deps.worker.fromStation(this.#deps.station, text);
  }

  fromUpstream(text: string): void {
    if (this.#answers) this.#deps.worker.fromUpstream(this.#deps.station, text);
  }

  close(): void {
    this.#deps.onClose(this);
    for (const e of this.#entries) this.#deps.worker.close(e.link);
    this.#set([]);
  }

  #set(entries: readonly MirrorEntry[]): void {
    this.#entries = entries;
    this.#answers = entries.some((e) => e.spec.answers);
  }

  /**
   * A frame a mirror sent that the worker handed over: a call, or an answer of a mirror with `logAnswers` (the
   * worker counts the other mirrors' answers without decoding them).
   */
  received(entry: MirrorEntry, text: string): void {
    const parsed = parseFrame(text);
    if (!parsed.ok) {
      this.#observe(entry, 'upstream', 'in', 'mirror', clip(text, 4096), undefined, `mirror ${entry.spec.id}: malformed frame ignored (${parsed.problem.message})`, parsed.problem.messageId);
      return;
    }
    const frame = parsed.frame;
    if (frame.type !== CALL) {
      entry.counters.answersDiscarded++;
      this.#observe(entry, 'upstream', 'in', 'mirror', text, frame, `mirror ${entry.spec.id}: answer discarded (the primary upstream answers the station)`);
      return;
    }
    if (!entry.spec.allowActions.includes(frame.action)) {
      entry.counters.callsRefused++;
      this.#observe(entry, 'upstream', 'in', 'mirror', text, frame, `mirror ${entry.spec.id}: call refused (${frame.action} is not in allowActions)`);
      const reply = encodeCallError(frame.id, 'SecurityError', `chargebridge: mirror upstream "${entry.spec.id}" is read-only; ${clip(frame.action, 64)} is not allowed`);
      this.#reply(entry, reply, frame.action, 'gateway');
      return;
    }
    entry.counters.callsRelayed++;
    this.#observe(entry, 'upstream', 'in', 'mirror', text, frame, `mirror ${entry.spec.id}: call relayed to the station as a call of the gateway's own`);
    const { id, action } = frame;
    this.#deps.calls(this.#deps.chargeBoxId, action, frame.payload).then(
      (outcome) => this.#reply(entry, answerText(id, action, outcome), action, outcome.kind === 'result' || outcome.kind === 'error' ? 'station' : 'gateway'),
      (err: unknown) => this.#reply(entry, encodeCallError(id, 'GenericError', `chargebridge: ${clip((err as Error).message, 200)}`), action, 'gateway'),
    );
  }

  #reply(entry: MirrorEntry, text: string, action: string, origin: Origin): void {
    if (entry.link.state === 'closed') return;
    this.#deps.worker.toLink(entry.link, text);
    const parsed = parseFrame(text);
    this.#observe(entry, 'upstream', 'out', origin, text, parsed.ok ? parsed.frame : undefined, `to mirror ${entry.spec.id} only`, undefined, action);
  }

  #observe(entry: MirrorEntry, leg: Leg, direction: Direction, origin: Origin, raw: string, frame: Frame | undefined, problem: string, messageId?: string, action?: string): void {
    const obs: Mutable<FrameObservation> = {
      atUs: nowUs(), chargeBoxId: this.#deps.chargeBoxId, linkKind: this.#deps.linkKind, leg, direction, origin, disposition: 'mirror', raw, problem, mirror: entry.spec.id,
    };
    if (frame) {
      obs.messageType = messageTypeName(frame.type);
      obs.messageId = frame.id;
      obs.frame = frame;
    } else if (messageId !== undefined) obs.messageId = messageId;
    const act = action ?? (frame?.type === CALL ? frame.action : undefined);
    if (act !== undefined) obs.action = act;
    this.#deps.observe(obs);
  }
}

/** The answer a mirror gets for a call the station answered (or did not); like an operator, never a station's key. */
function answerText(id: string, action: string, outcome: CallOutcome): string {
  switch (outcome.kind) {
    case 'result':
      return encodeCallResult(id, redactAnswerPayload(action, outcome.payload));
    case 'error':
      return encodeCallError(id, outcome.code, outcome.description, (outcome.details ?? {}) as Record<string, unknown>);
    case 'timeout':
      return encodeCallError(id, 'GenericError', 'chargebridge: the station did not answer in time');
    case 'disconnected':
      return encodeCallError(id, 'GenericError', `chargebridge: the station disconnected (${clip(outcome.reason, 200)})`);
  }
}

// The station password in transit (OCPP 1.6 security whitepaper, key rotation): ChangeConfiguration
// {key: "AuthorizationKey", value} carries it to the station, and some stations report it back in GetConfiguration.
// The frame tap passes every observation through `sanitize` before the bus sees it, so the message log, exports,
// the live frame stream, events and logs only ever hold "[redacted]"; the station and SteVe got the original bytes.
// Frames of other actions are returned untouched after one string comparison.
// The same pass pairs a ChangeConfiguration sent to a station with the station's answer: "Accepted" hands the new
// key to `onAccepted` (the gateway learns it), anything else forgets it.
import type { FrameObservation, Origin } from '../events/observations.js';
import { CALL, CALLRESULT, encodeCall, encodeCallResult, type Frame } from '../ocpp/frames.js';

export const REDACTED = '[redacted]';

export interface AcceptedKey {
  readonly chargeBoxId: string;
  readonly key: string;
  /** Who sent the ChangeConfiguration. */
  readonly setBy: 'steve' | 'gateway' | 'local-cs';
}

export interface AuthorizationKeyWatchOptions {
  readonly onAccepted: (accepted: AcceptedKey) => void;
  /** How long a sent key waits for the station's answer (the relay's call timeout and a margin). */
  readonly holdMs: number;
  /** Keys waiting for an answer, over all stations; the oldest is forgotten beyond it. Default 1024. */
  readonly maxPending?: number;
}

interface Pending {
  readonly key: string;
  readonly setBy: AcceptedKey['setBy'];
  readonly at: number;
}

const isAuthorizationKey = (k: unknown): boolean => typeof k === 'string' && k.toLowerCase() === 'authorizationkey';
const MENTIONS_KEY = /authorizationkey/i;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class AuthorizationKeyWatch {
  readonly #pending = new Map<string, Pending>();
  readonly #maxPending: number;
  #redacted = 0;

  constructor(private readonly options: AuthorizationKeyWatchOptions) {
    this.#maxPending = options.maxPending ?? 1024;
  }

  /** Observations whose text was changed to hide a key. */
  get redacted(): number {
    return this.#redacted;
  }

  sanitize(obs: FrameObservation): FrameObservation {
    const action = obs.action;
    // A frame that could not be read (refused, e.g. nested too deep) has only its text, whatever action it names.
    if (obs.frame !== undefined) {
      if (action === 'ChangeConfiguration') return this.#changeConfiguration(obs);
      if (action === 'GetConfiguration') return obs.messageType === 'CALLRESULT' ? this.#getConfigurationConf(obs) : obs;
      if (action !== undefined) return obs;
      // No action: answers to unknown ids. An answer the relay no longer paired (it came after CALL_TIMEOUT_MS)
      // still tells whether the station took the key: it now uses it either way.
      if (this.#pending.size > 0) this.#answered(obs);
    }
    // A late GetConfiguration answer, say. Rare; the text is all there is, so it goes whole when it names the key.
    if (MENTIONS_KEY.test(obs.raw)) {
      this.#redacted++;
      return this.#withoutText(obs);
    }
    return obs;
  }

  #changeConfiguration(obs: FrameObservation): FrameObservation {
    const frame = obs.frame;
    if (frame?.type === CALL) {
      if (!isObject(frame.payload) || !isAuthorizationKey(frame.payload.key)) return obs;
      const value = frame.payload.value;
      const setBy = toStation(obs);
      if (setBy !== undefined && typeof value === 'string' && obs.linkKind === 'ws') this.#hold(`${obs.chargeBoxId}\u0000${frame.id}`, { key: value, setBy, at: Date.now() });
      const payload = { ...frame.payload, value: REDACTED };
      return this.#replace(obs, () => encodeCall(frame.id, frame.action, payload), { ...frame, payload });
    }
    // The station's answer (the relay paired it, hence the action).
    this.#answered(obs);
    return obs;
  }

  /** A station's answer to a ChangeConfiguration that carried a key: Accepted hands the key over, anything else forgets it. */
  #answered(obs: FrameObservation): void {
    const frame = obs.frame;
    if (frame === undefined || frame.type === CALL || obs.origin !== 'station') return;
    const id = `${obs.chargeBoxId}\u0000${frame.id}`;
    const sent = this.#pending.get(id);
    if (!sent) return;
    this.#pending.delete(id);
    if (frame.type === CALLRESULT && isObject(frame.payload) && frame.payload.status === 'Accepted' && Date.now() - sent.at <= this.options.holdMs) {
      this.options.onAccepted({ chargeBoxId: obs.chargeBoxId, key: sent.key, setBy: sent.setBy });
    }
  }

  #getConfigurationConf(obs: FrameObservation): FrameObservation {
    const frame = obs.frame;
    if (frame?.type !== CALLRESULT) return obs;
    const payload = redactedConfiguration(frame.payload);
    if (payload === undefined) return obs;
    return this.#replace(obs, () => encodeCallResult(frame.id, payload), { ...frame, payload });
  }

  /** The observation with the redacted text; if even that cannot be encoded (absurd nesting), no text at all. */
  #replace(obs: FrameObservation, encode: () => string, frame: Frame): FrameObservation {
    this.#redacted++;
    try {
      return { ...obs, raw: encode(), frame };
    } catch {
      return this.#withoutText(obs);
    }
  }

  #withoutText(obs: FrameObservation): FrameObservation {
    const { frame: _frame, ...rest } = obs;
    return { ...rest, raw: `<redacted: ${Buffer.byteLength(obs.raw)} bytes mentioning AuthorizationKey>` };
  }

  #hold(id: string, pending: Pending): void {
    // Unanswered keys do not stay in memory: old ones go first, and never more than maxPending.
    for (const [k, p] of this.#pending) {
      if (pending.at - p.at <= this.options.holdMs && this.#pending.size < this.#maxPending) break;
      this.#pending.delete(k);
    }
    this.#pending.delete(id);
    this.#pending.set(id, pending);
  }
}

/** A GetConfiguration answer with AuthorizationKey values redacted, or undefined when it lists none. */
function redactedConfiguration(payload: unknown): Record<string, unknown> | undefined {
  if (!isObject(payload)) return undefined;
  const list = payload.configurationKey;
  if (!Array.isArray(list) || !list.some((e) => isObject(e) && isAuthorizationKey(e.key) && 'value' in e)) return undefined;
  const configurationKey = list.map((e: unknown) => (isObject(e) && isAuthorizationKey(e.key) && 'value' in e ? { ...e, value: REDACTED } : e));
  return { ...payload, configurationKey };
}

/** A station's answer as an operator's call returns it (REST, Socket.IO): a GetConfiguration answer without the key. */
export function redactAnswerPayload(action: string, payload: unknown): unknown {
  return action === 'GetConfiguration' ? (redactedConfiguration(payload) ?? payload) : payload;
}

/** A CALL on its way to the station: from SteVe (or the embedded central system) or the gateway's own. */
function toStation(obs: FrameObservation): AcceptedKey['setBy'] | undefined {
  const from: Origin = obs.origin;
  if (obs.leg === 'upstream' && obs.direction === 'in' && (from === 'steve' || from === 'local-cs')) return from;
  if (obs.leg === 'station' && obs.direction === 'out' && from === 'gateway') return 'gateway';
  return undefined;
}

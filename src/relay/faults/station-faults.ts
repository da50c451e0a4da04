// The fault rules of one station and what they do to its frames. The relay hands a frame here only when the
// station has rules (session.faults is set); the first rule that matches and draws a hit acts, every frame it
// touches is observed as `injected` with the rule's id, and frames it lets through later go back through the
// relay's normal path (bookkeeping and logging as usual). Frames of the gateway's own calls are never touched.
import type { LinkKind } from '../../events/catalogue.js';
import type { FrameObservation, Leg, Origin } from '../../events/observations.js';
import { CALL, CALLRESULT, encodeCallError, encodeCallResult, messageTypeName, parseFrame, type Frame } from '../../ocpp/frames.js';
import { nowUs } from '../frame-tap.js';
import { SeededRandom } from './random.js';
import type { AnswerSpec, FaultRuleView, FaultSpec, FrameFilter } from './rule.js';

/** What the rules need from the relay's session, supplied per connection. */
export interface FaultSink {
  readonly chargeBoxId: string;
  readonly linkKind: LinkKind;
  /** Hands a frame to the relay past the faults, as if it had just arrived from `from`. */
  process(from: Leg, text: string): void;
  /** Writes text to the station, no bookkeeping. */
  toStation(text: string): void;
  /** Writes text to the upstream (held while it opens), no bookkeeping. */
  toUpstream(text: string): void;
  /** The pending call an answer arriving from `from` belongs to; `take` removes it. */
  callOf(from: Leg, id: string, take: boolean): { readonly action: string; readonly owner: string } | undefined;
  upstreamOrigin(): Origin;
  /** Ends the session: a close frame with `code`, or abrupt (no close frame). */
  end(code: number, reason: string, abrupt: boolean): void;
  observe(obs: FrameObservation): void;
}

/** Bytes of frames rules may hold per station (delayed, stalled, reordered); past it a frame is dropped and counted. */
export const FAULT_HOLD_BYTES = 4 * 1024 * 1024;

/** What `garble` puts in place of one character: mostly JSON's own punctuation, so the damage is structural. */
const JUNK = '{}[],:"\\x0';

/** Calls whose answer a `replace` rule waits to swap, per station. */
const MAX_REPLACING = 1024;

interface Held {
  readonly from: Leg;
  readonly text: string;
}

export interface ActiveRule extends Omit<FaultRuleView, 'matched' | 'acted'> {
  matched: number;
  acted: number;
  readonly random: SeededRandom;
  held: Held[];
  reorderTimer?: NodeJS.Timeout;
}

export function newActiveRule(view: Omit<FaultRuleView, 'matched' | 'acted'>): ActiveRule {
  const seed = 'seed' in view.spec ? view.spec.seed : 0;
  return { ...view, matched: 0, acted: 0, random: new SeededRandom(seed), held: [] };
}

export function viewOf(r: ActiveRule): FaultRuleView {
  const { random: _r, held: _h, reorderTimer: _t, ...view } = r;
  return view;
}

type Direction = 'toUpstream' | 'toStation';

function matches(f: FrameFilter, dir: Direction, frame: Frame, action: string | undefined): boolean {
  if (f.direction !== 'both' && f.direction !== dir) return false;
  if (f.messageTypes && !f.messageTypes.includes(messageTypeName(frame.type))) return false;
  if (f.actions && (action === undefined || !f.actions.includes(action))) return false;
  return true;
}

export class StationFaults {
  readonly rules = new Map<string, ActiveRule>();
  #sink: FaultSink | undefined;
  readonly #timers = new Set<NodeJS.Timeout>();
  /** Answers to swap (answer rules in mode replace): station call id → rule. */
  readonly #replacing = new Map<string, ActiveRule>();
  #heldBytes = 0;
  /** Frames dropped because FAULT_HOLD_BYTES were held already. */
  overflowDrops = 0;

  constructor(readonly chargeBoxId: string) {}

  get connected(): boolean {
    return this.#sink !== undefined;
  }

  connect(sink: FaultSink): void {
    this.#sink = sink;
  }

  /** The session ended: whatever was held or pending is gone with it. */
  disconnect(): void {
    this.#sink = undefined;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#replacing.clear();
    for (const r of this.rules.values()) {
      if (r.reorderTimer) clearTimeout(r.reorderTimer);
      delete r.reorderTimer;
      r.held = [];
    }
    this.#heldBytes = 0;
  }

  add(rule: ActiveRule): void {
    this.rules.set(rule.id, rule);
  }

  /** Takes a rule away; a stall or reorder releases what it held, in order. */
  remove(id: string): boolean {
    const rule = this.rules.get(id);
    if (!rule) return false;
    this.rules.delete(id);
    if (rule.reorderTimer) clearTimeout(rule.reorderTimer);
    for (const [callId, r] of this.#replacing) if (r === rule) this.#replacing.delete(callId);
    this.#release(rule, false);
    return true;
  }

  /** True when a rule took the frame (the relay does nothing more with it). */
  intercept(from: Leg, text: string): boolean {
    const sink = this.#sink;
    if (!sink) return false;
    const parsed = parseFrame(text);
    if (!parsed.ok) return false; // the relay refuses it as usual
    const frame = parsed.frame;
    let action: string | undefined;
    if (frame.type === CALL) action = frame.action;
    else {
      const call = sink.callOf(from, frame.id, false);
      if (call?.owner === 'gateway') return false; // the gateway's own calls are not relayed traffic
      action = call?.action;
    }
    const dir: Direction = from === 'station' ? 'toUpstream' : 'toStation';
    for (const rule of this.rules.values()) {
      const spec = rule.spec;
      if (spec.kind === 'cut' || (spec.kind === 'upstreamDown' && spec.mode === 'close')) continue;
      if (spec.kind === 'upstreamDown') {
        rule.matched++;
        rule.acted++;
        this.#note(sink, rule, from, text, frame, action, 'dropped: the upstream is silent (nothing crosses while the rule lasts)');
        return true;
      }
      if (spec.kind === 'answer') {
        if (this.#answer(sink, rule, spec, from, text, frame, action)) return true;
        continue;
      }
      if (!matches(spec, dir, frame, action)) continue;
      rule.matched++;
      if (rule.random.next() >= spec.rate) continue;
      rule.acted++;
      this.#act(sink, rule, spec, from, text, frame, action);
      return true;
    }
    return false;
  }

  #act(sink: FaultSink, rule: ActiveRule, spec: Exclude<FaultSpec, { kind: 'cut' | 'upstreamDown' | 'answer' }>, from: Leg, text: string, frame: Frame, action: string | undefined): void {
    switch (spec.kind) {
      case 'drop':
        this.#note(sink, rule, from, text, frame, action, 'dropped');
        return;
      case 'delay': {
        const ms = Math.round(rule.random.delay(spec.delay));
        if (!this.#hold(sink, rule, from, text, frame, action, `delayed ${ms} ms`)) return;
        const t = setTimeout(() => {
          this.#timers.delete(t);
          this.#heldBytes -= text.length;
          this.#sink?.process(from, text);
        }, ms);
        this.#timers.add(t);
        return;
      }
      case 'duplicate':
        this.#note(sink, rule, from, text, frame, action, `duplicated: sent ${spec.copies + 1} times`);
        for (let i = 0; i <= spec.copies && this.#sink; i++) sink.process(from, text);
        return;
      case 'stall':
        if (this.#hold(sink, rule, from, text, frame, action, 'held by a stall: released in order when the rule ends')) rule.held.push({ from, text });
        return;
      case 'reorder': {
        if (!this.#hold(sink, rule, from, text, frame, action, `held for reordering (window ${spec.window})`)) return;
        rule.held.push({ from, text });
        if (rule.held.length >= spec.window) this.#release(rule, true);
        else if (!rule.reorderTimer) rule.reorderTimer = setTimeout(() => this.#release(rule, true), spec.maxHoldMs);
        return;
      }
      case 'corrupt': {
        const n = text.length;
        let out: string;
        let what: string;
        if (spec.mode === 'truncate') {
          const keep = 1 + rule.random.below(Math.max(1, n - 1));
          out = text.slice(0, keep);
          what = `corrupted: truncated to ${keep} of ${n} characters`;
        } else {
          const at = rule.random.below(n);
          const pick = rule.random.below(JUNK.length);
          // Never the character that was there: the frame always changes.
          const junk = JUNK[pick] === text[at] ? JUNK[(pick + 1) % JUNK.length]! : JUNK[pick]!;
          out = text.slice(0, at) + junk + text.slice(at + 1);
          what = `corrupted: character ${at} replaced`;
        }
        // Straight to the other side: the relay's parse would refuse it, and the point is that the peer sees it.
        if (from === 'station') sink.toUpstream(out);
        else sink.toStation(out);
        const other: Leg = from === 'station' ? 'upstream' : 'station';
        this.#observe(sink, rule, other, 'out', this.#origin(sink, from), out, undefined, action, `${what} (message id ${frame.id}); sent without bookkeeping`, frame.id);
        return;
      }
    }
  }

  /** An answer rule: true when it took the frame. */
  #answer(sink: FaultSink, rule: ActiveRule, spec: Extract<FaultSpec, { kind: 'answer' }>, from: Leg, text: string, frame: Frame, action: string | undefined): boolean {
    if (from === 'upstream') {
      if (frame.type === CALL || this.#replacing.get(frame.id) !== rule) return false;
      this.#replacing.delete(frame.id);
      const call = sink.callOf('upstream', frame.id, true);
      this.#note(sink, rule, from, text, frame, action, 'the upstream\'s answer, replaced: the station got the rule\'s answer');
      const base = frame.type === CALLRESULT ? frame.payload : undefined;
      this.#sendAnswer(sink, rule, spec.answer, frame.id, call?.action ?? action ?? '', base);
      return true;
    }
    if (frame.type !== CALL || !spec.actions.includes(frame.action)) return false;
    rule.matched++;
    if (rule.random.next() >= spec.rate) return false;
    rule.acted++;
    if (spec.mode === 'replace') {
      // Bounded: ids whose answer never came (timeouts) are forgotten oldest first.
      if (this.#replacing.size >= MAX_REPLACING) this.#replacing.delete(this.#replacing.keys().next().value as string);
      this.#replacing.set(frame.id, rule);
      return false; // forwarded as usual; the answer is swapped when it comes
    }
    const none = 'none' in spec.answer;
    this.#note(sink, rule, from, text, frame, action, none ? 'not forwarded and never answered' : 'not forwarded: the gateway answered in place of the upstream');
    this.#sendAnswer(sink, rule, spec.answer, frame.id, frame.action, undefined);
    return true;
  }

  #sendAnswer(sink: FaultSink, rule: ActiveRule, answer: AnswerSpec, id: string, action: string, base: unknown): void {
    let text: string;
    if ('none' in answer) return;
    if ('callError' in answer) text = encodeCallError(id, answer.callError.code, answer.callError.description);
    else text = encodeCallResult(id, answerPayload(answer, action, base, rule));
    sink.toStation(text);
    const parsed = parseFrame(text);
    this.#observe(sink, rule, 'station', 'out', 'gateway', text, parsed.ok ? parsed.frame : undefined, action, 'answer from a fault rule', id);
  }

  /** Counts a held frame against the station's budget and observes it; false (dropped, counted) over the budget. */
  #hold(sink: FaultSink, rule: ActiveRule, from: Leg, text: string, frame: Frame, action: string | undefined, what: string): boolean {
    if (this.#heldBytes + text.length > FAULT_HOLD_BYTES) {
      this.overflowDrops++;
      this.#note(sink, rule, from, text, frame, action, `dropped: ${FAULT_HOLD_BYTES} bytes are held for this station already`);
      return false;
    }
    this.#heldBytes += text.length;
    this.#note(sink, rule, from, text, frame, action, what);
    return true;
  }

  /** Lets held frames go: in a seeded order (reorder, when `shuffle`) or in arrival order. */
  #release(rule: ActiveRule, shuffle: boolean): void {
    if (rule.reorderTimer) clearTimeout(rule.reorderTimer);
    delete rule.reorderTimer;
    const held = rule.held;
    rule.held = [];
    if (shuffle) {
      for (let i = held.length - 1; i > 0; i--) {
        const j = rule.random.below(i + 1);
        [held[i], held[j]] = [held[j] as Held, held[i] as Held];
      }
    }
    for (const h of held) {
      this.#heldBytes -= h.text.length;
      this.#sink?.process(h.from, h.text);
    }
  }

  #origin(sink: FaultSink, from: Leg): Origin {
    return from === 'station' ? 'station' : sink.upstreamOrigin();
  }

  #note(sink: FaultSink, rule: ActiveRule, from: Leg, text: string, frame: Frame, action: string | undefined, what: string): void {
    this.#observe(sink, rule, from, 'in', this.#origin(sink, from), text, frame, action, what, frame.id);
  }

  #observe(sink: FaultSink, rule: ActiveRule, leg: Leg, direction: 'in' | 'out', origin: Origin, raw: string, frame: Frame | undefined, action: string | undefined, what: string, messageId: string): void {
    sink.observe({
      atUs: nowUs(),
      chargeBoxId: sink.chargeBoxId,
      linkKind: sink.linkKind,
      leg,
      direction,
      origin,
      disposition: 'injected',
      raw,
      messageId,
      problem: `${what} (fault ${rule.id}, ${rule.spec.kind})`,
      fault: { ruleId: rule.id, kind: rule.spec.kind },
      ...(frame ? { frame, messageType: messageTypeName(frame.type) } : {}),
      ...(action !== undefined ? { action } : {}),
    });
  }
}

/** The CALLRESULT payload an answer rule gives for `action`; `base` is the upstream's answer (mode replace). */
function answerPayload(answer: Exclude<AnswerSpec, { none: true } | { callError: unknown }>, action: string, base: unknown, rule: ActiveRule): unknown {
  if ('result' in answer) return answer.result;
  if ('bootStatus' in answer) return { status: answer.bootStatus, currentTime: new Date().toISOString(), interval: answer.interval };
  const b = typeof base === 'object' && base !== null ? (base as Record<string, unknown>) : undefined;
  const info = typeof b?.idTagInfo === 'object' && b.idTagInfo !== null ? (b.idTagInfo as Record<string, unknown>) : {};
  const idTagInfo = { ...info, status: answer.idTagStatus };
  if (b) return { ...b, idTagInfo };
  // In place of the upstream: a StartTransaction needs a transaction id, which the upstream never learns.
  return action === 'StartTransaction' ? { transactionId: 1 + rule.random.below(0x7ffffffe), idTagInfo } : { idTagInfo };
}

// Every station's fault rules: set, listed, removed, expired. A station with rules gets its StationFaults bound
// into its relay session; one without has none bound, so the relay pays a single undefined check per frame.
// Rules go when the station disconnects unless set `persistent` (then they wait for its next connection).
import { FaultRuleError, parseFaultRule, type FaultRuleView } from './rule.js';
import { newActiveRule, StationFaults, viewOf, type FaultSink } from './station-faults.js';

export interface FaultBinding {
  /** A sink into the station's live session, or undefined when it is not connected. */
  sinkFor(chargeBoxId: string): FaultSink | undefined;
  /** Sets (or clears) the faults the relay's session for this station consults. */
  bind(chargeBoxId: string, faults: StationFaults | undefined): void;
}

export type SetFaultResult =
  | { readonly ok: true; readonly rule: FaultRuleView }
  | { readonly ok: false; readonly reason: 'invalid'; readonly field: string; readonly message: string }
  | { readonly ok: false; readonly reason: 'not_connected'; readonly message: string };

/** Rules per station at most: enough for any bench run, bounded against a runaway script. */
export const MAX_RULES_PER_STATION = 32;

export class FaultRegistry {
  readonly #stations = new Map<string, StationFaults>();
  readonly #expiry = new Map<string, NodeJS.Timeout>();
  #next = 1;
  #binding: FaultBinding | undefined;

  /** Called once by the relay that owns the sessions. */
  bindTo(binding: FaultBinding): void {
    this.#binding = binding;
  }

  /** `raw` is untrusted. A rule for a station that is not connected must be persistent (it waits for it). */
  set(chargeBoxId: string, raw: unknown, setBy: string): SetFaultResult {
    let parsed;
    try {
      parsed = parseFaultRule(raw);
    } catch (err) {
      if (err instanceof FaultRuleError) return { ok: false, reason: 'invalid', field: err.field, message: err.message };
      throw err;
    }
    const sink = this.#binding?.sinkFor(chargeBoxId);
    if (!sink && (!parsed.persistent || parsed.spec.kind === 'cut')) {
      return { ok: false, reason: 'not_connected', message: `station ${chargeBoxId} is not connected; set "persistent": true for a rule that waits for it` };
    }
    let faults = this.#stations.get(chargeBoxId);
    if (faults && faults.rules.size >= MAX_RULES_PER_STATION) {
      return { ok: false, reason: 'invalid', field: 'rule', message: `station ${chargeBoxId} has ${MAX_RULES_PER_STATION} rules already; delete some first` };
    }
    const now = Date.now();
    const id = `f${this.#next++}`;
    const rule = newActiveRule({
      id,
      chargeBoxId,
      spec: parsed.spec,
      setBy,
      setAt: new Date(now).toISOString(),
      persistent: parsed.persistent,
      ...(parsed.durationMs !== undefined ? { expiresAt: new Date(now + parsed.durationMs).toISOString() } : {}),
    });
    const spec = parsed.spec;
    if (spec.kind === 'cut') {
      // One-shot: nothing to keep.
      rule.matched = rule.acted = 1;
      sink?.end(spec.code, `${spec.reason} (fault ${id})`, spec.abrupt);
      return { ok: true, rule: viewOf(rule) };
    }
    if (!faults) {
      faults = new StationFaults(chargeBoxId);
      this.#stations.set(chargeBoxId, faults);
      if (sink) faults.connect(sink);
      this.#binding?.bind(chargeBoxId, faults);
    }
    faults.add(rule);
    if (parsed.durationMs !== undefined) {
      const t = setTimeout(() => this.remove(chargeBoxId, id), parsed.durationMs);
      t.unref();
      this.#expiry.set(id, t);
    }
    if (spec.kind === 'upstreamDown' && spec.mode === 'close' && sink) {
      rule.acted++;
      sink.end(1013, `upstream unreachable (fault ${id})`, false);
    }
    return { ok: true, rule: viewOf(rule) };
  }

  list(chargeBoxId: string): FaultRuleView[] {
    return [...(this.#stations.get(chargeBoxId)?.rules.values() ?? [])].map(viewOf);
  }

  /** Every station's rules (for a gateway-wide view). */
  all(): FaultRuleView[] {
    return [...this.#stations.values()].flatMap((f) => [...f.rules.values()].map(viewOf));
  }

  remove(chargeBoxId: string, ruleId: string): boolean {
    const faults = this.#stations.get(chargeBoxId);
    if (!faults?.remove(ruleId)) return false;
    this.#forgetExpiry(ruleId);
    this.#dropIfEmpty(chargeBoxId, faults);
    return true;
  }

  /** Removes every rule of a station; returns how many there were. */
  clear(chargeBoxId: string): number {
    const faults = this.#stations.get(chargeBoxId);
    if (!faults) return 0;
    const ids = [...faults.rules.keys()];
    for (const id of ids) this.remove(chargeBoxId, id);
    return ids.length;
  }

  /** The relay attached a session: the faults it must consult, if the station has persistent rules. */
  attached(chargeBoxId: string, sink: FaultSink): StationFaults | undefined {
    const faults = this.#stations.get(chargeBoxId);
    if (!faults) return undefined;
    faults.connect(sink);
    for (const r of faults.rules.values()) {
      if (r.spec.kind === 'upstreamDown' && r.spec.mode === 'close') {
        // Mirrors an upstream that is down: the station is let in, then closed the way the relay closes it then.
        r.matched++;
        r.acted++;
        setImmediate(() => sink.end(1013, `upstream unreachable (fault ${r.id})`, false));
        break;
      }
    }
    return faults;
  }

  /** The session ended: its rules go, except persistent ones. */
  detached(chargeBoxId: string, faults: StationFaults): void {
    if (this.#stations.get(chargeBoxId) !== faults) return;
    faults.disconnect();
    for (const r of [...faults.rules.values()]) {
      if (r.persistent) continue;
      faults.remove(r.id);
      this.#forgetExpiry(r.id);
    }
    this.#dropIfEmpty(chargeBoxId, faults);
  }

  #forgetExpiry(ruleId: string): void {
    const t = this.#expiry.get(ruleId);
    if (t) clearTimeout(t);
    this.#expiry.delete(ruleId);
  }

  #dropIfEmpty(chargeBoxId: string, faults: StationFaults): void {
    if (faults.rules.size > 0) return;
    this.#stations.delete(chargeBoxId);
    faults.disconnect();
    this.#binding?.bind(chargeBoxId, undefined);
  }

  /** Stops every expiry timer (shutdown). */
  close(): void {
    for (const t of this.#expiry.values()) clearTimeout(t);
    this.#expiry.clear();
  }
}

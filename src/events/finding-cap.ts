// A station's frame findings become events at most `perSecond` times per station and second. A station sending
// garbage at full speed would otherwise put one finding event per frame into the history, the journal and every
// client's stream. Past the cap, findings are counted by rule. Each such second is reported once, as one finding
// (rule `event.findings-capped`). The message log keeps every finding with its frame.

/** One station's second in which findings went over the cap. */
export interface CappedSecond {
  readonly chargeBoxId: string;
  /** Findings not sent as events in that second. */
  readonly suppressed: number;
  /** The same, by rule. */
  readonly rules: Readonly<Record<string, number>>;
  /** The last of those findings' message-log entry and its time: the report's id and time derive from them. */
  readonly lastLogId: number;
  readonly lastTime: string;
}

interface Second {
  readonly index: number;
  emitted: number;
  suppressed: number;
  readonly rules: Map<string, number>;
  lastLogId: number;
  lastTime: string;
}

export interface Admission {
  readonly admitted: boolean;
  /** The station's previous second, when it ended with findings over the cap: to be reported before this one. */
  readonly ended?: CappedSecond;
}

export class FindingCap {
  readonly perSecond: number;
  /** Only stations with findings in their current second: `due()` forgets the rest every second. */
  readonly #seconds = new Map<string, Second>();
  #capped = 0;

  constructor(perSecond: number) {
    this.perSecond = perSecond;
  }

  /** Findings not sent as events since start (each also counted in one report). */
  get capped(): number {
    return this.#capped;
  }

  admit(chargeBoxId: string, rule: string, logId: number, time: string, nowMs: number): Admission {
    const index = Math.floor(nowMs / 1000);
    let s = this.#seconds.get(chargeBoxId);
    let ended: CappedSecond | undefined;
    if (s?.index !== index) {
      if (s) ended = report(chargeBoxId, s);
      s = { index, emitted: 0, suppressed: 0, rules: new Map(), lastLogId: logId, lastTime: time };
      this.#seconds.set(chargeBoxId, s);
    }
    if (s.emitted < this.perSecond) {
      s.emitted++;
      return ended ? { admitted: true, ended } : { admitted: true };
    }
    s.suppressed++;
    s.rules.set(rule, (s.rules.get(rule) ?? 0) + 1);
    s.lastLogId = logId;
    s.lastTime = time;
    this.#capped++;
    return ended ? { admitted: false, ended } : { admitted: false };
  }

  /** The seconds over the cap that have ended by `nowMs` (all of them with `all`); their stations are forgotten. */
  due(nowMs: number, all = false): CappedSecond[] {
    const index = Math.floor(nowMs / 1000);
    const out: CappedSecond[] = [];
    for (const [id, s] of this.#seconds) {
      if (!all && s.index >= index) continue;
      this.#seconds.delete(id);
      const r = report(id, s);
      if (r) out.push(r);
    }
    return out;
  }
}

function report(chargeBoxId: string, s: Second): CappedSecond | undefined {
  if (s.suppressed === 0) return undefined;
  return { chargeBoxId, suppressed: s.suppressed, rules: Object.fromEntries(s.rules), lastLogId: s.lastLogId, lastTime: s.lastTime };
}

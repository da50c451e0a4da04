// Passive conformance: an observer on the bus that checks every logged frame of every station against sequence
// and consistency rules (rules.ts), publishes each finding on the bus ('conformance') and keeps the newest ones.
// It reads the message log's 'logged' channel, so it is never on the relay's path.
import { Counter, type Registry } from 'prom-client';
import type { Bus } from '../events/bus.js';
import type { ConformanceFinding } from '../events/conformance.js';
import { RULES, StationRules } from './rules.js';

export { RULES } from './rules.js';

export interface ConformanceOptions {
  readonly bus: Bus;
  readonly registry?: Registry;
  /** Station timestamps further than this ahead of the gateway's clock are findings. */
  readonly maxSkewMs?: number;
  /** Absolute tolerance of the heartbeat-interval rule, in station seconds (on top of its relative one). */
  readonly heartbeatSlackS?: number;
  /** Station seconds per real second: a simulated station's clock speed (1 for real boards). */
  readonly timeScale?: (chargeBoxId: string) => number;
  /** Findings kept for the REST API (newest first out when full). */
  readonly keep?: number;
  /** Stations whose rule state is kept (the least recently seen goes first). */
  readonly maxStations?: number;
  readonly now?: () => number;
}

export interface ConformanceQuery {
  readonly chargeBoxId?: string;
  readonly rule?: string;
  readonly limit?: number;
}

export interface Conformance {
  findings(q?: ConformanceQuery): { findings: ConformanceFinding[]; total: number; forgotten: number };
  close(): void;
}

export function createConformance(opts: ConformanceOptions): Conformance {
  const keep = opts.keep ?? 1000;
  const maxStations = opts.maxStations ?? 10_000;
  const maxSkewMs = opts.maxSkewMs ?? 300_000;
  const now = opts.now ?? Date.now;
  const stations = new Map<string, StationRules>();
  const kept: ConformanceFinding[] = [];
  let total = 0;
  let forgotten = 0;
  const counter = opts.registry
    ? new Counter({ name: 'chargebridge_conformance_findings_total', help: 'Frames that broke a passive conformance rule, by rule', labelNames: ['rule'] as const, registers: [opts.registry] })
    : undefined;

  // When each station's rules were last used: the least recently seen goes when a new one would pass maxStations.
  // A stamp per frame instead of moving the station to the end of the map (a delete and a set on every frame).
  const lastSeen = new Map<string, number>();
  let clock = 0;
  const rulesOf = (id: string): StationRules => {
    lastSeen.set(id, ++clock);
    let r = stations.get(id);
    if (r) return r;
    r = new StationRules(maxSkewMs, opts.heartbeatSlackS ?? 5);
    stations.set(id, r);
    if (stations.size > maxStations) {
      // Rare (a new station with the map full): one scan for the oldest stamp.
      let oldest: string | undefined;
      let at = Infinity;
      for (const [sid, t] of lastSeen) if (t < at) (at = t), (oldest = sid);
      if (oldest !== undefined) {
        stations.delete(oldest);
        lastSeen.delete(oldest);
      }
    }
    return r;
  };

  const offs = [
    // In order with 'logged': an old connection's last frames are checked before a new connection starts afresh.
    opts.bus.on('loggedLink', (c) => {
      if (c.kind === 'connected') rulesOf(c.chargeBoxId).connected();
    }),
    opts.bus.on('logged', (e) => {
      for (const hit of rulesOf(e.chargeBoxId).check(e, now(), opts.timeScale?.(e.chargeBoxId) ?? 1)) {
        const finding: ConformanceFinding = { rule: hit.rule, chargeBoxId: e.chargeBoxId, logId: e.id, time: e.time, message: hit.message };
        total++;
        counter?.inc({ rule: hit.rule });
        kept.push(finding);
        if (kept.length > keep) {
          kept.shift();
          forgotten++;
        }
        opts.bus.emit('conformance', finding);
      }
    }),
  ];

  return {
    findings(q = {}) {
      const limit = Math.max(1, Math.min(q.limit ?? 100, keep));
      const out = kept.filter((f) => (q.chargeBoxId === undefined || f.chargeBoxId === q.chargeBoxId) && (q.rule === undefined || f.rule === q.rule));
      return { findings: out.slice(-limit).reverse(), total, forgotten };
    },
    close() {
      for (const off of offs) off();
    },
  };
}

/** Rule ids with the behaviour each checks. */
export function ruleCatalogue(): { rule: string; checks: string }[] {
  return Object.entries(RULES).map(([rule, checks]) => ({ rule, checks }));
}

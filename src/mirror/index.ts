// Mirror upstreams: read-only central systems beside the primary one. Each follows the stations it is set for
// (CONFIG_FILE `mirrors` or REST /api/mirrors) through its own connection per station (link.ts), held by the
// mirror worker thread (worker-thread.ts, driven from link-worker.ts); the relay hands it copies through a
// StationMirror (station-mirrors.ts), batched per turn of its loop, and never waits for it.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Router } from 'express';
import type { LinkKind } from '../events/catalogue.js';
import type { FrameObservation } from '../events/observations.js';
import { GatewayError } from '../errors.js';
import type { StationMirror } from '../relay/relay.js';
import { checkMirror, mirrors as follows, MirrorInputError, MirrorNotFound, MirrorReadOnly, type MirrorLimits, type MirrorSpec } from './config.js';
import type { MirrorLinkStats } from './link.js';
import { MirrorWorker, type LinkNumbers, type MirrorWorkerHealth } from './link-worker.js';
import { registerMirrorMetrics } from './metrics.js';
import { mirrorsRouter } from './routes.js';
import { StationMirrors, type MirrorCounters, type MirrorEntry, type StationCalls } from './station-mirrors.js';
import { linkSetup } from './worker-protocol.js';

export { parseConfigMirrors, parseMirrorLimits, type MirrorLimits, type MirrorSpec } from './config.js';
export type { MirrorWorkerHealth } from './link-worker.js';

/** A mirror as the API shows it: the password only as `passwordSet`. */
export interface MirrorView {
  readonly id: string;
  readonly url: string;
  readonly stations: MirrorSpec['stations'];
  readonly username?: string;
  readonly passwordSet: boolean;
  readonly caFile?: string;
  readonly rename: MirrorSpec['rename'];
  readonly allowActions: readonly string[];
  readonly answers: boolean;
  readonly logAnswers: boolean;
  readonly queueBytes: number;
  readonly origin: MirrorSpec['origin'];
  readonly summary: MirrorSummary;
  readonly links: readonly (MirrorLinkStats & MirrorCounters)[];
}

/** One mirror's totals over its station links (health, metrics, the operator console). */
export interface MirrorSummary {
  readonly id: string;
  readonly links: Readonly<Record<string, number>>;
  /** The largest lag of its links, in ms. */
  readonly lagMs: number;
  readonly queuedBytes: number;
  readonly sent: number;
  readonly dropped: number;
  readonly reconnects: number;
  readonly answersDiscarded: number;
  readonly callsRefused: number;
  readonly callsRelayed: number;
  /** Restarts of the mirror worker (shared by all mirrors) since the gateway started. */
  readonly workerRestarts: number;
}

export interface MirrorsDeps {
  readonly dataDir: string;
  readonly limits: MirrorLimits;
  /** From CONFIG_FILE (parseConfigMirrors). */
  readonly configured: readonly MirrorSpec[];
  readonly calls: StationCalls;
  readonly observe: (obs: FrameObservation) => void;
  readonly logger: Logger;
  readonly registry: Registry;
}

export class Mirrors {
  readonly #deps: MirrorsDeps;
  readonly #file: string;
  readonly #specs = new Map<string, MirrorSpec>();
  readonly #stations = new Map<string, StationMirrors>();
  /** Counters of links that closed, so totals do not fall when stations leave. */
  readonly #past = new Map<string, { sent: number; dropped: number; reconnects: number } & MirrorCounters>();
  readonly #ca = new Map<string, Buffer>();
  readonly #logger: Logger;
  readonly #worker: MirrorWorker;
  /** Open links by their number with the worker: where the frames a mirror sends go. */
  readonly #byLink = new Map<number, { station: StationMirrors; entry: MirrorEntry }>();

  constructor(deps: MirrorsDeps) {
    this.#deps = deps;
    this.#file = path.join(deps.dataDir, 'mirrors', 'mirrors.json');
    this.#logger = deps.logger.child({ module: 'mirrors' });
    for (const spec of [...deps.configured, ...this.#loadApiMirrors()]) {
      if (this.#specs.has(spec.id)) {
        this.#logger.warn({ mirror: spec.id }, 'mirror id is both in CONFIG_FILE and created over REST: the CONFIG_FILE one wins');
        continue;
      }
      this.#specs.set(spec.id, spec);
    }
    this.#worker = new MirrorWorker({
      limits: deps.limits,
      logger: this.#logger,
      onFrame: (link, text) => {
        const at = this.#byLink.get(link.id);
        at?.station.received(at.entry, text);
      },
      onLate: (link, more) => this.#addPast(link.mirror, more, undefined),
    });
    registerMirrorMetrics(deps.registry, () => this.summaries(), () => this.#worker.health());
  }

  /** The relay's hook: a station attached. */
  readonly attach = (chargeBoxId: string, linkKind: LinkKind): StationMirror => {
    const station = new StationMirrors({
      chargeBoxId,
      linkKind,
      worker: this.#worker,
      station: this.#worker.station(),
      calls: this.#deps.calls,
      observe: this.#deps.observe,
      onClose: (s) => {
        for (const e of s.entries) this.#retire(e);
        if (this.#stations.get(chargeBoxId) === s) this.#stations.delete(chargeBoxId);
      },
    });
    this.#stations.set(chargeBoxId, station);
    for (const spec of this.#specs.values()) if (follows(spec, chargeBoxId)) this.#open(station, chargeBoxId, spec);
    return station;
  };

  list(): MirrorView[] {
    return [...this.#specs.values()].map((s) => this.#view(s));
  }

  get(id: string): MirrorView {
    return this.#view(this.#spec(id));
  }

  create(body: unknown): MirrorView {
    const spec = checkMirror('body', body, 'api');
    if (this.#specs.has(spec.id)) throw new MirrorInputError(`a mirror "${spec.id}" exists already`);
    this.#specs.set(spec.id, spec);
    this.#save();
    this.#openEverywhere(spec);
    this.#logger.info({ mirror: spec.id, url: spec.url }, 'mirror upstream created');
    return this.#view(spec);
  }

  /** Changes a REST mirror; its links are opened again with the new settings. */
  update(id: string, body: unknown): MirrorView {
    const old = this.#spec(id);
    if (old.origin === 'config') throw new MirrorReadOnly(`mirror "${id}" comes from CONFIG_FILE: change it there and restart`);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new MirrorInputError('body must be an object');
    if ('id' in body && (body as { id: unknown }).id !== id) throw new MirrorInputError('the id of a mirror cannot change');
    const merged: Record<string, unknown> = { ...old, ...body, id };
    delete merged.origin;
    for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
    const spec = checkMirror('body', merged, 'api');
    this.#closeEverywhere(id);
    this.#specs.set(id, spec);
    this.#save();
    this.#openEverywhere(spec);
    return this.#view(spec);
  }

  remove(id: string): void {
    const spec = this.#spec(id);
    if (spec.origin === 'config') throw new MirrorReadOnly(`mirror "${id}" comes from CONFIG_FILE: remove it there and restart`);
    this.#closeEverywhere(id);
    this.#specs.delete(id);
    this.#past.delete(id);
    this.#save();
  }

  summaries(): MirrorSummary[] {
    const restarts = this.#worker.health().restarts;
    return [...this.#specs.values()].map((s) => summarize(s.id, this.#linksOf(s.id), this.#past.get(s.id), restarts));
  }

  /** The thread that holds the mirrors' connections: state, restarts, last failure. */
  worker(): MirrorWorkerHealth {
    return this.#worker.health();
  }

  /** Resolves once the links' numbers are as of now (the worker reports them periodically otherwise). */
  refresh(): Promise<void> {
    return this.#worker.refresh();
  }

  /** Tests only: make the mirror worker crash or stall, as a defect would. */
  injectWorkerFault(kind: 'crash' | 'stall'): void {
    this.#worker.fault(kind);
  }

  router(): Router {
    return mirrorsRouter(this);
  }

  stop(): void {
    for (const station of [...this.#stations.values()]) station.close();
    this.#worker.stop();
  }

  #open(station: StationMirrors, chargeBoxId: string, spec: MirrorSpec): void {
    const counters: MirrorCounters = { answersDiscarded: 0, callsRefused: 0, callsRelayed: 0 };
    const link = this.#worker.open(spec.id, station.number, chargeBoxId, linkSetup(spec, chargeBoxId, this.#deps.limits, this.#caOf(spec)));
    const entry: MirrorEntry = { spec, counters, link };
    this.#byLink.set(link.id, { station, entry });
    station.add(entry);
  }

  #openEverywhere(spec: MirrorSpec): void {
    for (const [id, station] of this.#stations) if (follows(spec, id)) this.#open(station, id, spec);
  }

  #closeEverywhere(id: string): void {
    for (const station of this.#stations.values()) {
      for (const e of station.entries) if (e.spec.id === id) this.#retire(e);
      station.remove(id);
    }
  }

  /** Keeps a closing link's counters in its mirror's totals (what the worker counts after this comes via onLate). */
  #retire(e: MirrorEntry): void {
    this.#byLink.delete(e.link.id);
    this.#addPast(e.spec.id, e.link.totals(), e.counters);
  }

  #addPast(id: string, n: LinkNumbers, c: MirrorCounters | undefined): void {
    // A removed mirror's totals are gone with it.
    if (!this.#specs.has(id)) return;
    const p = this.#past.get(id) ?? { sent: 0, dropped: 0, reconnects: 0, answersDiscarded: 0, callsRefused: 0, callsRelayed: 0 };
    this.#past.set(id, {
      sent: p.sent + n.sent, dropped: p.dropped + n.dropped, reconnects: p.reconnects + n.reconnects,
      answersDiscarded: p.answersDiscarded + n.answersDiscarded + (c?.answersDiscarded ?? 0),
      callsRefused: p.callsRefused + (c?.callsRefused ?? 0), callsRelayed: p.callsRelayed + (c?.callsRelayed ?? 0),
    });
  }

  #caOf(spec: MirrorSpec): Uint8Array | undefined {
    if (spec.caFile === undefined) return undefined;
    let ca = this.#ca.get(spec.caFile);
    if (!ca) this.#ca.set(spec.caFile, (ca = readFileSync(spec.caFile)));
    return ca;
  }

  #linksOf(id: string): (MirrorLinkStats & MirrorCounters)[] {
    const out: (MirrorLinkStats & MirrorCounters)[] = [];
    for (const station of this.#stations.values()) {
      for (const e of station.entries) {
        if (e.spec.id !== id) continue;
        const s = e.link.stats();
        out.push({ ...s, ...e.counters, answersDiscarded: s.answersDiscarded + e.counters.answersDiscarded });
      }
    }
    return out;
  }

  #spec(id: string): MirrorSpec {
    const s = this.#specs.get(id);
    if (!s) throw new MirrorNotFound(`no mirror upstream "${id}"`);
    return s;
  }

  #view(spec: MirrorSpec): MirrorView {
    const links = this.#linksOf(spec.id);
    return {
      id: spec.id,
      url: spec.url,
      stations: spec.stations,
      ...(spec.username !== undefined ? { username: spec.username } : {}),
      passwordSet: spec.password !== undefined,
      ...(spec.caFile !== undefined ? { caFile: spec.caFile } : {}),
      rename: spec.rename,
      allowActions: spec.allowActions,
      answers: spec.answers,
      logAnswers: spec.logAnswers,
      queueBytes: spec.queueBytes ?? this.#deps.limits.queueBytes,
      origin: spec.origin,
      summary: summarize(spec.id, links, this.#past.get(spec.id), this.#worker.health().restarts),
      links,
    };
  }

  #loadApiMirrors(): MirrorSpec[] {
    if (!existsSync(this.#file)) return [];
    try {
      const raw = JSON.parse(readFileSync(this.#file, 'utf8')) as unknown;
      if (!Array.isArray(raw)) throw new Error('not a list');
      return raw.map((r, i) => checkMirror(`${this.#file}[${i}]`, r, 'api'));
    } catch (err) {
      throw new GatewayError('GW_ERR_CONFIG', `${this.#file} cannot be read (${(err as Error).message}): fix or remove it (it holds the mirror upstreams created over REST)`, { file: this.#file });
    }
  }

  /** Passwords are kept here (mode 0600): the gateway must present them after a restart. */
  #save(): void {
    mkdirSync(path.dirname(this.#file), { recursive: true, mode: 0o700 });
    const specs = [...this.#specs.values()].filter((s) => s.origin === 'api').map(({ origin: _origin, ...rest }) => rest);
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(specs, null, 2), { mode: 0o600 });
    renameSync(tmp, this.#file);
  }
}

function summarize(id: string, links: readonly (MirrorLinkStats & MirrorCounters)[], past: ({ sent: number; dropped: number; reconnects: number } & MirrorCounters) | undefined, workerRestarts: number): MirrorSummary {
  const states: Record<string, number> = {};
  let lagMs = 0;
  let queuedBytes = 0;
  const t = { sent: past?.sent ?? 0, dropped: past?.dropped ?? 0, reconnects: past?.reconnects ?? 0, answersDiscarded: past?.answersDiscarded ?? 0, callsRefused: past?.callsRefused ?? 0, callsRelayed: past?.callsRelayed ?? 0 };
  for (const l of links) {
    states[l.state] = (states[l.state] ?? 0) + 1;
    lagMs = Math.max(lagMs, l.lagMs);
    queuedBytes += l.queuedBytes;
    t.sent += l.sent;
    t.dropped += l.dropped;
    t.reconnects += l.reconnects;
    t.answersDiscarded += l.answersDiscarded;
    t.callsRefused += l.callsRefused;
    t.callsRelayed += l.callsRelayed;
  }
  return { id, links: states, lagMs, queuedBytes, ...t, workerRestarts };
}

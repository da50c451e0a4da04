// The fleet feed (`fleet:subscribe`): one compact entry per changed station, all of a tick's changes in one
// `fleet` message per socket, at most one per PUSH_FLEET_INTERVAL_MS. A fleet table of 1,000 stations thus
// costs its page one message a second instead of an event and a summary per station per update; the full
// event stream is for the stations a page subscribes to (the one it shows). Entries are state, not history:
// the newest wins, nothing is replayed, so a socket without room simply gets its stations at a later tick.
// Scoped by the token like everything else: a viewer's feed holds only its own stations.
import type { GatewayEvent } from '../events/catalogue.js';
import type { PushClient } from './client.js';
import { encodeEmit, type FanOutPacket, type PacketEncoder } from './fanout-packet.js';
import { FINDING_IDS, fleetEntry, type FleetEntry } from './fleet-entry.js';
import { canSee } from './jwt.js';
import type { StateSource } from './ports.js';
import type { PushCounters } from './stats.js';

/** Entries built per turn of the event loop: a tick of 1,000 changed stations never holds the relay for long. */
const SLICE = 100;

export interface FleetFeedDeps {
  readonly state: StateSource;
  readonly intervalMs: number;
  readonly counters: PushCounters;
  readonly hasRoom: (c: PushClient) => boolean;
  readonly encoder: PacketEncoder;
}

export class FleetFeed {
  readonly #d: FleetFeedDeps;
  readonly #clients = new Set<PushClient>();
  /** Stations changed since the last tick, with the finding ids seen meanwhile. */
  readonly #dirty = new Map<string, string[]>();
  #timer: NodeJS.Timeout | undefined;
  /** A tick is building its entries (over several turns). */
  #building = false;

  constructor(deps: FleetFeedDeps) {
    this.#d = deps;
  }

  get size(): number {
    return this.#clients.size;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.#tick(), this.#d.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#dirty.clear();
    this.#clients.clear();
  }

  /** Adds the socket; the ack carries every station it may see, later ticks what changed. */
  subscribe(c: PushClient): FleetEntry[] {
    this.#clients.add(c);
    c.fleetPending.clear();
    const ids = c.principal.chargers === 'all' ? this.#d.state.ids() : [...c.principal.chargers];
    const entries: FleetEntry[] = [];
    for (const id of ids) {
      const entry = fleetEntry(this.#d.state, id, undefined);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  unsubscribe(c: PushClient): void {
    this.#clients.delete(c);
    c.fleetPending.clear();
  }

  /** A bus event: its station goes out at the next tick (only while anyone follows the fleet). */
  changed(ev: GatewayEvent): void {
    if (this.#clients.size === 0) return;
    let findings = this.#dirty.get(ev.chargeBoxId);
    if (!findings) {
      findings = [];
      this.#dirty.set(ev.chargeBoxId, findings);
    }
    if (ev.type === 'finding' && findings.length < FINDING_IDS) findings.push(ev.id);
  }

  /** Builds each changed station's entry once, SLICE per turn, then writes one message per socket. */
  #tick(): void {
    if (this.#building) return;
    if (this.#dirty.size === 0 && ![...this.#clients].some((c) => c.fleetPending.size > 0)) return;
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    const entries = new Map<string, FleetEntry>();
    this.#building = true;
    const build = (from: number): void => {
      if (this.#timer === undefined) {
        this.#building = false;
        return;
      }
      for (const [id, findings] of dirty.slice(from, from + SLICE)) {
        const entry = fleetEntry(this.#d.state, id, findings);
        if (entry) entries.set(id, entry);
      }
      if (from + SLICE < dirty.length) {
        setImmediate(() => build(from + SLICE));
        return;
      }
      this.#building = false;
      this.#send(entries);
    };
    build(0);
  }

  /** One message per socket: operators share one encoding, viewers get their own stations only. */
  #send(entries: ReadonlyMap<string, FleetEntry>): void {
    let shared: FanOutPacket | undefined;
    let encoded = false;
    for (const c of this.#clients) {
      if (c.closing) continue;
      const everything = c.principal.chargers === 'all';
      if (!this.#d.hasRoom(c)) {
        // Newest state wins: the stations are sent, as they are then, at a tick with room.
        for (const id of entries.keys()) if (everything || canSee(c.principal, id)) c.fleetPending.add(id);
        continue;
      }
      if (everything && c.fleetPending.size === 0) {
        if (entries.size === 0) continue;
        if (!encoded) {
          encoded = true;
          shared = encodeEmit(this.#d.encoder, 'fleet', { stations: [...entries.values()] });
        }
        if (shared) c.socket.conn.write(shared.text, shared.options);
        else c.socket.emit('fleet', { stations: [...entries.values()] });
      } else {
        const mine = new Map<string, FleetEntry>();
        for (const id of c.fleetPending) {
          const entry = entries.get(id) ?? fleetEntry(this.#d.state, id, undefined);
          if (entry) mine.set(id, entry);
        }
        c.fleetPending.clear();
        for (const [id, entry] of entries) if (everything || canSee(c.principal, id)) mine.set(id, entry);
        if (mine.size === 0) continue;
        c.socket.emit('fleet', { stations: [...mine.values()] });
      }
      this.#d.counters.fleet++;
    }
  }
}

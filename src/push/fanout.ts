// Fan-out of one item to every socket in a station's room and the all-stations room. The packet is encoded
// once and handed to each socket's delivery in slices of `slice` sockets, yielding between slices, so a
// fan-out to thousands of clients never holds the event loop (and with it the relay) for long. Jobs run in
// arrival order, so each socket still sees a station's events in seq order.
// Delivery starts at the end of the tick the item arrived in: an event and the summary it causes (queued a
// microtask later, see summaries.ts) then share one job and reach each socket in one write (one system call).
import type { Server } from 'socket.io';
import type { GatewayEvent } from '../events/catalogue.js';
import type { PushClient } from './client.js';
import { cork, uncork } from './direct-write.js';
import { encodeEmit, type FanOutPacket } from './fanout-packet.js';

export const ALL_ROOM = 'stations:all';
export const stationRoom = (id: string): string => `station:${id}`;

export type FanOutItem = { readonly name: 'event'; readonly payload: GatewayEvent } | { readonly name: 'summary'; readonly payload: unknown };

interface FanOutEntry {
  readonly item: FanOutItem;
  /** Encoded once (text and WebSocket frame), written as is to each engine socket. */
  readonly packet: FanOutPacket | undefined;
}

interface FanOutJob {
  readonly chargeBoxId: string;
  /** Items of one station for the same sockets, arrived in the same tick; each socket gets them in order. */
  readonly entries: FanOutEntry[];
  /** Socket ids, fixed when the item arrived: sockets that join later get it in their snapshot. */
  readonly targets: readonly string[];
  next: number;
}

export interface FanOutDeps {
  // The server's own generics do not matter here: only rooms and the encoder are read.
  readonly io: Pick<Server, 'sockets' | 'encoder'>;
  /** Deliveries (socket × item) per turn of the event loop. */
  readonly slice: number;
  readonly client: (socketId: string) => PushClient | undefined;
  readonly deliver: (c: PushClient, chargeBoxId: string, item: FanOutItem, packet: FanOutPacket | undefined) => void;
}

export class FanOut {
  readonly #d: FanOutDeps;
  /** Fan-outs in progress, oldest first. */
  readonly #jobs: FanOutJob[] = [];
  #scheduled = false;

  constructor(deps: FanOutDeps) {
    this.#d = deps;
  }

  /** Whether any socket watches the station (its room or the all-stations room exists). */
  watched(chargeBoxId: string): boolean {
    const rooms = this.#d.io.sockets.adapter.rooms;
    return rooms.has(stationRoom(chargeBoxId)) || rooms.has(ALL_ROOM);
  }

  push(chargeBoxId: string, item: FanOutItem): void {
    const rooms = this.#d.io.sockets.adapter.rooms;
    const station = rooms.get(stationRoom(chargeBoxId));
    const all = rooms.get(ALL_ROOM);
    if (!station && !all) return;
    const targets: string[] = station ? [...station] : [];
    all?.forEach((sid) => {
      if (!station?.has(sid)) targets.push(sid);
    });
    const entry = { item, packet: encodeEmit(this.#d.io.encoder, item.name, item.payload) };
    const last = this.#jobs.at(-1);
    // Joined to the job before it if that has not started, is for the same sockets, and stays within one slice.
    const joins = last !== undefined && last.next === 0 && last.chargeBoxId === chargeBoxId && last.entries.length < this.#d.slice && sameTargets(last.targets, targets);
    if (joins) last.entries.push(entry);
    else this.#jobs.push({ chargeBoxId, entries: [entry], targets, next: 0 });
    if (this.#jobs.length === 1 && !this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        this.#run();
      });
    }
  }

  clear(): void {
    this.#jobs.length = 0;
  }

  #run(): void {
    let budget = this.#d.slice;
    while (budget > 0) {
      const job = this.#jobs[0];
      if (!job) return;
      const { entries, chargeBoxId } = job;
      // The budget counts deliveries (socket × item); at least one socket per turn.
      const end = Math.min(job.targets.length, job.next + Math.max(1, Math.floor(budget / entries.length)));
      budget -= (end - job.next) * entries.length;
      for (; job.next < end; job.next++) {
        const c = this.#d.client(job.targets[job.next]!);
        if (!c || c.closing) continue;
        if (entries.length === 1) {
          this.#d.deliver(c, chargeBoxId, entries[0]!.item, entries[0]!.packet);
          continue;
        }
        cork(c.socket.conn);
        for (const e of entries) this.#d.deliver(c, chargeBoxId, e.item, e.packet);
        uncork(c.socket.conn);
      }
      if (job.next === job.targets.length) this.#jobs.shift();
    }
    if (this.#jobs.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#run();
      });
    }
  }
}

function sameTargets(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

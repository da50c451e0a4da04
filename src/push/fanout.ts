// Fan-out of one item to every socket in a station's room and the all-stations room. The packet is encoded
// once and handed to each socket's delivery in slices of `slice` sockets, yielding between slices, so a
// fan-out to thousands of clients never holds the event loop (and with it the relay) for long. Jobs run in
// arrival order, so each socket still sees a station's events in seq order.
import type { Server } from 'socket.io';
import type { GatewayEvent } from '../events/catalogue.js';
import type { PushClient } from './client.js';
import { encodeEmit, type FanOutPacket } from './fanout-packet.js';

export const ALL_ROOM = 'stations:all';
export const stationRoom = (id: string): string => `station:${id}`;

export type FanOutItem = { readonly name: 'event'; readonly payload: GatewayEvent } | { readonly name: 'summary'; readonly payload: unknown };

interface FanOutJob {
  readonly chargeBoxId: string;
  readonly item: FanOutItem;
  /** Encoded once (text and WebSocket frame), written as is to each engine socket. */
  readonly packet: FanOutPacket | undefined;
  /** Socket ids, fixed when the item arrived: sockets that join later get it in their snapshot. */
  readonly targets: readonly string[];
  next: number;
}

export interface FanOutDeps {
  // The server's own generics do not matter here: only rooms and the encoder are read.
  readonly io: Pick<Server, 'sockets' | 'encoder'>;
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
    const packet = encodeEmit(this.#d.io.encoder, item.name, item.payload);
    this.#jobs.push({ chargeBoxId, item, packet, targets, next: 0 });
    if (this.#jobs.length === 1 && !this.#scheduled) this.#run();
  }

  clear(): void {
    this.#jobs.length = 0;
  }

  #run(): void {
    let budget = this.#d.slice;
    while (budget > 0) {
      const job = this.#jobs[0];
      if (!job) return;
      const end = Math.min(job.targets.length, job.next + budget);
      budget -= end - job.next;
      for (; job.next < end; job.next++) {
        const c = this.#d.client(job.targets[job.next]!);
        if (c && !c.closing) this.#d.deliver(c, job.chargeBoxId, job.item, job.packet);
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

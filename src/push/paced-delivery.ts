// Writes to one socket only while it has room (engine packets and bytes under the budget) and feeds it the
// rest at its own pace when it drains. Nothing is queued per event: a station's events the socket had no
// room for stay in the history, and the socket is marked behind on that station; when it drains they are read
// from there in seq order. Catch-up bursts, replays and resumes therefore cost a reading client time, never a
// disconnect. What the history no longer holds when the socket gets to it is announced as a `gap`.
import type { GatewayEvent } from '../events/catalogue.js';
import type { PushClient } from './client.js';
import { writeDirect } from './direct-write.js';
import type { FanOutPacket } from './fanout-packet.js';
import type { HistorySource, StateSource } from './ports.js';
import type { MetricsPush } from './protocol.js';
import type { PushCounters } from './stats.js';

export interface PacedDeliveryDeps {
  readonly history: HistorySource;
  readonly state: StateSource;
  readonly counters: PushCounters;
  /** Seq of the newest event of a station the push server has seen. */
  readonly lastSeq: (chargeBoxId: string) => number;
  readonly metrics: () => MetricsPush;
  readonly socketBufferPackets: number;
  readonly directWrites: boolean;
  readonly clientBufferBytes: number;
}

/** Events one station may write in a row before the next waiting station gets its turn. */
const TURN = 64;

// Socket.IO's typed emit cannot take a computed event name.
function emitRaw(c: PushClient, name: string, payload: unknown): void {
  (c.socket as unknown as { emit(ev: string, payload: unknown): boolean }).emit(name, payload);
}

export class PacedDelivery {
  readonly #d: PacedDeliveryDeps;

  constructor(deps: PacedDeliveryDeps) {
    this.#d = deps;
  }

  /** Room in the engine's write buffer (packets, bytes) and, counted with it, in the WebSocket's own buffer. */
  hasRoom(c: PushClient): boolean {
    return c.waitingPackets < this.#d.socketBufferPackets && c.waitingBytes + c.socketBuffered < this.#d.clientBufferBytes;
  }

  /** A live event for a socket in its room: written now, or left in the history until the socket drains. */
  event(c: PushClient, ev: GatewayEvent, packet: FanOutPacket | undefined): boolean {
    if (c.closing) return false;
    const id = ev.chargeBoxId;
    const at = c.cursor.get(id) ?? ev.seq - 1;
    // Already in its snapshot or read from the history.
    if (ev.seq <= at) return false;
    if (c.behind.has(id)) return false;
    if (!this.hasRoom(c)) {
      c.behind.add(id);
      return false;
    }
    if (ev.seq !== at + 1) {
      // Something between is missing here: read it from the history now (no drain may come to do it).
      c.behind.add(id);
      this.pump(c);
      return false;
    }
    c.cursor.set(id, ev.seq);
    this.#write(c, 'event', ev, packet);
    return true;
  }

  summary(c: PushClient, chargeBoxId: string, payload: unknown, packet: FanOutPacket | undefined): boolean {
    if (c.closing) return false;
    if (!this.hasRoom(c) || c.summaries.size > 0) {
      // The newest summary is read when the socket drains; older ones are replaced, never queued.
      if (c.summaries.has(chargeBoxId)) this.#d.counters.summariesReplaced++;
      c.summaries.add(chargeBoxId);
      if (this.hasRoom(c)) this.pump(c);
      return false;
    }
    this.#write(c, 'summary', payload, packet);
    return true;
  }

  metrics(c: PushClient, payload: MetricsPush): void {
    if (c.closing) return;
    if (!this.hasRoom(c)) {
      if (c.metricsDue) this.#d.counters.summariesReplaced++;
      c.metricsDue = true;
      return;
    }
    this.#write(c, 'metrics', payload, undefined);
    this.#d.counters.metrics++;
  }

  /** From now on the socket holds events of the station up to `seq` (its snapshot, or what a resume says). */
  resumeAt(c: PushClient, chargeBoxId: string, seq: number): void {
    const newest = this.#d.lastSeq(chargeBoxId);
    const at = Math.min(seq, newest);
    c.cursor.set(chargeBoxId, at);
    if (at < newest) c.behind.add(chargeBoxId);
    else c.behind.delete(chargeBoxId);
  }

  /** Writes the station's events after `since` up to `to` (seq) again, as the socket drains. */
  replay(c: PushClient, chargeBoxId: string, since: number, to: number): void {
    if (to <= since) return;
    const job = c.replays.get(chargeBoxId);
    if (job) c.replays.set(chargeBoxId, { next: Math.min(job.next, since), to: Math.max(job.to, to) });
    else c.replays.set(chargeBoxId, { next: since, to });
  }

  /** Feeds the socket while it has room. Re-entrant calls (a write that flushes emits `drain`) fold into one. */
  pump(c: PushClient): void {
    // The common case on every engine flush: nothing waits.
    if (c.waiting === 0) return;
    if (c.pumping) {
      c.pumpAgain = true;
      return;
    }
    c.pumping = true;
    try {
      do {
        c.pumpAgain = false;
        this.#pumpOnce(c);
      } while (c.pumpAgain && !c.closing && this.hasRoom(c));
    } finally {
      c.pumping = false;
    }
  }

  #pumpOnce(c: PushClient): void {
    while (!c.closing && this.hasRoom(c)) {
      const summaryOf = first(c.summaries);
      if (summaryOf !== undefined) {
        c.summaries.delete(summaryOf);
        const summary = this.#d.state.summary(summaryOf);
        if (summary && c.watches(summaryOf)) this.#write(c, 'summary', { ...summary, seq: this.#d.lastSeq(summaryOf) }, undefined);
        continue;
      }
      if (c.metricsDue) {
        c.metricsDue = false;
        if (c.metrics) {
          this.#write(c, 'metrics', this.#d.metrics(), undefined);
          this.#d.counters.metrics++;
        }
        continue;
      }
      const behind = first(c.behind);
      if (behind !== undefined) {
        this.#catchUp(c, behind);
        continue;
      }
      const replayOf = first(c.replays.keys());
      if (replayOf !== undefined) {
        this.#replayTurn(c, replayOf);
        continue;
      }
      const frame = c.frames?.shift();
      if (!frame) return;
      if (c.framesLostUnreported > 0) reportLostFrames(c);
      c.socket.emit('frame', frame);
      this.#d.counters.frames++;
    }
  }

  /** One turn of a station the socket is behind on: its next events from the history, a gap first if some are gone. */
  #catchUp(c: PushClient, id: string): void {
    c.behind.delete(id);
    if (!c.watches(id)) {
      c.cursor.delete(id);
      return;
    }
    const at = c.cursor.get(id) ?? 0;
    const events = this.#d.history.since(id, at);
    const firstSeq = events[0]?.seq ?? this.#d.lastSeq(id) + 1;
    if (firstSeq > at + 1) {
      this.#gap(c, id, at + 1, firstSeq - 1);
      c.cursor.set(id, firstSeq - 1);
    }
    let i = 0;
    for (; i < events.length && i < TURN && this.hasRoom(c) && !c.closing; i++) {
      const ev = events[i]!;
      c.cursor.set(id, ev.seq);
      this.#write(c, 'event', ev, undefined);
    }
    // More to read: back in line behind the other stations (a busy station does not starve the rest).
    if (i < events.length) c.behind.add(id);
  }

  /** One turn of an explicit replay: events already sent once, written again up to the seq the request named. */
  #replayTurn(c: PushClient, id: string): void {
    const job = c.replays.get(id)!;
    c.replays.delete(id);
    const events = this.#d.history.since(id, job.next);
    let written = 0;
    for (const ev of events) {
      if (ev.seq > job.to || c.closing) return;
      if (written === TURN || !this.hasRoom(c)) {
        c.replays.set(id, job);
        return;
      }
      job.next = ev.seq;
      this.#write(c, 'event', ev, undefined);
      written++;
    }
  }

  #gap(c: PushClient, chargeBoxId: string, from: number, to: number): void {
    const missed = to - from + 1;
    c.gaps++;
    c.eventsLost += missed;
    this.#d.counters.eventsDropped += missed;
    c.socket.emit('gap', { chargeBoxId, from, to, missed, reason: 'history' });
  }

  #write(c: PushClient, name: 'event' | 'summary' | 'metrics', payload: unknown, packet: FanOutPacket | undefined): void {
    // The packet is the fan-out's encoded-once form: its frame straight to the WebSocket where nothing can be
    // reordered by that, else its text through engine.io (which still skips re-framing it when it can).
    if (packet !== undefined) {
      const frame = packet.options.wsPreEncodedFrame;
      if (frame === undefined || !this.#d.directWrites || !writeDirect(c.socket.conn, frame)) c.socket.conn.write(packet.text, packet.options);
    } else emitRaw(c, name, payload);
    if (name === 'event') this.#d.counters.events++;
    else if (name === 'summary') this.#d.counters.summaries++;
  }
}

export function reportLostFrames(c: PushClient): void {
  c.socket.emit('frames:lost', { lost: c.framesLostUnreported, totalLost: c.framesLost });
  c.framesLostUnreported = 0;
}

function first<T>(items: Iterable<T>): T | undefined {
  for (const item of items) return item;
  return undefined;
}

// One connected push socket: what it subscribed to, how far it has got per station, what waits for it, and
// how much the engine holds for it. Nothing here holds event payloads: events a socket has no room for stay
// in the history and are read from there when it drains.
import type { Socket } from 'socket.io';
import { onSocketDrain, socketBuffered } from './direct-write.js';
import type { FrameFilter } from './frame-filter.js';
import type { Principal } from './jwt.js';
import type { FrameQueue } from './frame-queue.js';
import type { ClientToServerEvents, ServerToClientEvents } from './protocol.js';

export interface SocketData {
  principal: Principal;
}
export type PushSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** An explicit replay request: events after `next`, up to and including `to`, still to be written. */
export interface ReplayJob {
  next: number;
  readonly to: number;
}

/** engine.io's packet as its packetCreate / flush events hand it over. */
interface EnginePacket {
  readonly data?: unknown;
}

export class PushClient {
  readonly stations = new Set<string>();
  all = false;
  metrics = false;
  closing = false;
  readonly timers: NodeJS.Timeout[] = [];

  /** Per station: seq of the newest event handed to the socket (live, from the history, or in the snapshot). */
  readonly cursor = new Map<string, number>();
  /** Stations whose newer events wait in the history until the socket has room, in turn. */
  readonly behind = new Set<string>();
  /** Explicit replay requests, at most one per station (a new one widens it). */
  readonly replays = new Map<string, ReplayJob>();
  /** Stations whose summary changed while the socket had no room: the current one is sent when it has. */
  readonly summaries = new Set<string>();
  metricsDue = false;
  /** Fleet stations that changed while the socket had no room: sent, as they are then, at the next tick. */
  readonly fleetPending = new Set<string>();

  frames: FrameQueue | undefined;
  frameFilter: FrameFilter | undefined;
  framesLostUnreported = 0;
  framesLost = 0;
  eventsLost = 0;
  gaps = 0;

  /** Packets and bytes in the engine's write buffer: written by us, not yet taken by the transport. */
  waitingPackets = 0;
  waitingBytes = 0;
  /** Last time the transport took what was waiting (engine `flush`): the socket is draining. */
  lastDrainAt = Date.now();
  /** The raw WebSocket's bufferedAmount at the last stall check (bytes the kernel has not taken yet). */
  lastBuffered = Number.POSITIVE_INFINITY;
  pumping = false;
  pumpAgain = false;

  constructor(
    readonly socket: PushSocket,
    readonly principal: Principal,
    /** The socket can take more: called on engine.io's drain and on the WebSocket's own (after direct writes). */
    onDrain: () => void,
  ) {
    const conn = socket.conn;
    conn.on('drain', onDrain);
    onSocketDrain(conn, onDrain);
    conn.on('upgrade', () => onSocketDrain(conn, onDrain));
    conn.on('packetCreate', (packet: EnginePacket) => {
      this.waitingPackets++;
      this.waitingBytes += typeof packet.data === 'string' ? packet.data.length : Buffer.isBuffer(packet.data) ? packet.data.length : 0;
    });
    conn.on('flush', () => {
      this.waitingPackets = 0;
      this.waitingBytes = 0;
      this.lastDrainAt = Date.now();
    });
  }

  /** Whether this socket may see the station's events now. */
  watches(chargeBoxId: string): boolean {
    return this.all || this.stations.has(chargeBoxId);
  }

  /** Things wait on our side for this socket (frames count only while the frame stream is on). */
  get waiting(): number {
    return this.behind.size + this.replays.size + this.summaries.size + (this.metricsDue ? 1 : 0) + (this.frames?.size ?? 0);
  }

  /** Bytes written straight to the WebSocket (and any engine.io wrote) that the kernel has not taken yet. */
  get socketBuffered(): number {
    return socketBuffered(this.socket.conn);
  }

  /** The socket stopped draining: bytes wait (in the engine or the socket) and nothing was taken for `ms`. */
  stalled(now: number, ms: number, buffered: number): boolean {
    return (this.waitingPackets > 0 || buffered > 0) && now - this.lastDrainAt > ms;
  }

  forget(): void {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    this.behind.clear();
    this.replays.clear();
    this.summaries.clear();
    this.fleetPending.clear();
    this.frames?.clear();
  }
}

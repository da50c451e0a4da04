// The fan-out's short cut past engine.io: a finished WebSocket frame written straight to the `ws` socket under an
// engine.io connection. engine.io would wrap each write in a packet object, emit four events, and hang a write
// callback on the socket to learn when it may write again; for one event to a thousand sockets that is as much
// CPU as the writes. It is taken only when it cannot reorder anything: the connection is open on the WebSocket
// transport (no per-message deflate) and engine.io holds nothing of its own back (an empty write buffer), so
// whatever engine.io wrote before is already in the socket ahead of this frame. Otherwise the caller writes
// through engine.io as before. Bytes written this way are counted by the socket itself (`bufferedAmount`).
import type { Socket } from 'socket.io';

type EngineSocket = Socket['conn'];

/** The `ws` socket as far as it is read here (`_sender` and `_socket` are `ws` internals, stable across 8.x). */
interface RawWs {
  readonly readyState: number;
  readonly bufferedAmount: number;
  readonly _sender?: { sendFrame?: (frame: readonly Buffer[], cb: undefined) => void };
  readonly _socket?: { cork(): void; uncork(): void; on(ev: 'drain', fn: () => void): unknown };
}

/** engine.io's connection internals read here. */
interface EngineInternals {
  readonly readyState: string;
  readonly writeBuffer: readonly unknown[];
  readonly transport: { readonly name: string; readonly perMessageDeflate?: unknown; readonly socket?: RawWs };
}

const OPEN = 1;

/** The raw `ws` socket when the connection is on the WebSocket transport. */
export function rawWs(conn: EngineSocket): RawWs | undefined {
  const t = (conn as unknown as EngineInternals).transport;
  return t.name === 'websocket' ? t.socket : undefined;
}

/** Bytes written to the connection's WebSocket that the kernel has not taken yet (0 off the WebSocket transport). */
export function socketBuffered(conn: EngineSocket): number {
  return rawWs(conn)?.bufferedAmount ?? 0;
}

/** Writes the frame straight to the WebSocket if nothing can be reordered by it; false: write through engine.io. */
export function writeDirect(conn: EngineSocket, frame: readonly Buffer[]): boolean {
  const e = conn as unknown as EngineInternals;
  if (e.readyState !== 'open' || e.writeBuffer.length !== 0 || e.transport.perMessageDeflate) return false;
  const ws = rawWs(conn);
  const send = ws?._sender?.sendFrame;
  if (ws === undefined || ws.readyState !== OPEN || send === undefined) return false;
  send.call(ws._sender, frame, undefined);
  return true;
}

/** Holds the connection's writes in user space until `uncork` (several packets, one system call). */
export function cork(conn: EngineSocket): void {
  rawWs(conn)?._socket?.cork();
}

export function uncork(conn: EngineSocket): void {
  rawWs(conn)?._socket?.uncork();
}

/** Calls `fn` when the WebSocket's socket has drained, after it was full (the direct writes' `drain`). */
export function onSocketDrain(conn: EngineSocket, fn: () => void): void {
  rawWs(conn)?._socket?.on('drain', fn);
}

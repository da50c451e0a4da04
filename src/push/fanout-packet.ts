// One event, encoded once for a whole fan-out. Besides the Socket.IO text it carries the finished WebSocket
// frame, handed to engine.io as its `wsPreEncodedFrame` send option: the websocket transport writes that
// frame as is (no engine.io encoding, no ws framing per socket), which is how Socket.IO's own room broadcasts
// skip the per-socket work. Polling transports, and servers with per-message deflate, ignore it and send the
// text.
import * as ws from 'ws';

/** `ws` exports its frame builder (Socket.IO's adapter uses it); @types/ws does not declare it. */
interface FrameBuilder {
  frame(data: Buffer, options: { readonly fin: boolean; readonly mask: boolean; readonly opcode: number; readonly readOnly: boolean; readonly rsv1: boolean }): Buffer[];
}
const Sender = (ws as unknown as { Sender?: Partial<FrameBuilder> }).Sender;
/** Without it (a future `ws`), every socket frames the text itself, as before. */
const frameOf = typeof Sender?.frame === 'function' ? (Sender as FrameBuilder).frame.bind(Sender) : undefined;

const TEXT = 1;
/** Engine.IO's "message" packet type, the prefix of every Socket.IO packet on the wire. */
const ENGINE_MESSAGE = '4';

export interface FanOutPacket {
  /** The Socket.IO packet as text, what engine.io sends when it cannot use the frame. */
  readonly text: string;
  /** Shared by every write of this fan-out (engine.io sets `compress` on it, the same value each time). */
  readonly options: EngineSendOptions;
}

/** engine.io's send options as its websocket transport reads them. */
interface EngineSendOptions {
  compress?: boolean;
  readonly wsPreEncodedFrame?: readonly Buffer[];
}

export function fanOutPacket(text: string): FanOutPacket {
  if (!frameOf) return { text, options: {} };
  const frame = frameOf(Buffer.from(ENGINE_MESSAGE + text), { fin: true, mask: false, opcode: TEXT, readOnly: false, rsv1: false });
  return { text, options: { wsPreEncodedFrame: frame } };
}

/** The encoder of a Socket.IO server (only `encode` is used). */
export interface PacketEncoder {
  encode(packet: { type: number; nsp: string; data: unknown[] }): unknown[];
}

/** Socket.IO's own wire form of socket.emit(name, payload) on the main namespace (type 2 = EVENT), encoded once. */
export function encodeEmit(encoder: PacketEncoder, name: string, payload: unknown): FanOutPacket | undefined {
  const encoded = encoder.encode({ type: 2, nsp: '/', data: [name, payload] });
  return encoded.length === 1 && typeof encoded[0] === 'string' ? fanOutPacket(encoded[0]) : undefined;
}

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

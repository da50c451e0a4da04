// What the first characters of a large OCPP-J frame tell without decoding or parsing the rest: its message type and
// id. Enough, for some frames, to know that they can never be forwarded or answered (an id too long to echo, an
// answer to a call nobody made), so the relay refuses them before they become a string (src/relay/large-frame.ts).
// Only a plain head (`[2,"id"` with JSON whitespace) is read; anything else is left to parseFrame.
import { CALL, CALLERROR, CALLRESULT, MAX_ECHOED_ID_LENGTH, MAX_MESSAGE_ID_LENGTH } from './frames.js';

/** Bytes of a large frame decoded to judge it by its head: far more than any type, id and nesting check need. */
export const FRAME_HEAD_BYTES = 16 * 1024;

export interface FrameHead {
  readonly type: typeof CALL | typeof CALLRESULT | typeof CALLERROR;
  /** The message id when it is a plain string (no escapes) of 1..MAX_MESSAGE_ID_LENGTH characters. */
  readonly id?: string;
  /** The id is a string longer than MAX_ECHOED_ID_LENGTH characters: it can be neither valid nor echoed. */
  readonly idTooLong: boolean;
}

/** A JSON-escaped character takes at most 6 characters (\uXXXX): past this many an id surely has too many. */
const ECHOABLE_ID_CHARS = MAX_ECHOED_ID_LENGTH * 6;

function skipSpace(text: string, i: number): number {
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return i;
  }
  return i;
}

/**
 * Type and id of a frame starting `[<2|3|4>,"…"`, from its first characters (`head`, a prefix of the frame);
 * undefined when it starts any other way (parseFrame decides).
 */
export function readFrameHead(head: string): FrameHead | undefined {
  let i = skipSpace(head, 0);
  if (head.charCodeAt(i) !== 0x5b) return undefined;
  i = skipSpace(head, i + 1);
  const type = head.charCodeAt(i) - 0x30;
  if (type !== CALL && type !== CALLRESULT && type !== CALLERROR) return undefined;
  // "2," or "2 ,", not "2.0", "2e0" or "23": those are parseFrame's to judge.
  i = skipSpace(head, i + 1);
  if (head.charCodeAt(i) !== 0x2c) return undefined;
  i = skipSpace(head, i + 1);
  if (head.charCodeAt(i) !== 0x22) return { type, idTooLong: false };
  const start = i + 1;
  const end = head.indexOf('"', start);
  if (end >= 0 && end - start <= ECHOABLE_ID_CHARS) {
    const id = head.slice(start, end);
    // An escape (even one before this quote) makes the id parseFrame's to read.
    const plain = id.length > 0 && id.length <= MAX_MESSAGE_ID_LENGTH && !id.includes('\\');
    return plain ? { type, id, idTooLong: false } : { type, idTooLong: false };
  }
  // No quote within the characters any echoable id fits in (escaped or not): too long, if the head went that far.
  return { type, idTooLong: head.length - start > ECHOABLE_ID_CHARS };
}

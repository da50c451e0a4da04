// A large station frame judged by its head before it becomes a string: the refusals that need nothing past the
// first FRAME_HEAD_BYTES (src/ocpp/frame-head.ts). The relay decodes and parses only the frames this lets through.
import { FRAME_HEAD_BYTES, readFrameHead } from '../ocpp/frame-head.js';
import { CALL, MAX_ECHOED_ID_LENGTH, MAX_FRAME_DEPTH, tooDeep, type FrameProblem, type FrameProblemKind } from '../ocpp/frames.js';
import { nestingExceeds } from '../ocpp/wire-text.js';

/** Why a station's frame is refused, and what the refusal owes: a CALLERROR to a CALL's id, an error to a waiting call. */
export type Refusal = Pick<FrameProblem, 'message' | 'messageId' | 'isCall'> & { readonly kind?: FrameProblemKind };

/**
 * The refusal a large frame earns whatever the rest of it holds (an id too long to echo, an answer to no call in
 * `awaited`, nesting past the limit in its head), or undefined when it must be read whole.
 */
export function refusalFromHead(bytes: Buffer, awaited: (id: string) => boolean): Refusal | undefined {
  const headText = bytes.toString('utf8', 0, FRAME_HEAD_BYTES);
  const head = readFrameHead(headText);
  const unread = ` (a frame of ${bytes.length} bytes, not read further)`;
  if (head?.idTooLong) return { message: `message id longer than ${MAX_ECHOED_ID_LENGTH} characters${unread}`, isCall: head.type === CALL };
  if (head?.id !== undefined && head.type !== CALL && !awaited(head.id)) {
    return { message: `answer to unknown message id ${head.id}${unread}`, messageId: head.id, isCall: false };
  }
  // Deep already in its head: the whole frame is deeper still.
  return nestingExceeds(headText, MAX_FRAME_DEPTH) ? tooDeep(headText) : undefined;
}

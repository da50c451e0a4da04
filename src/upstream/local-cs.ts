// The embedded central system: when STEVE_WS_URL is unset, the gateway answers stations itself so that
// `npm start` works with nothing else installed. By default it answers like a permissive SteVe; its answers come
// from the test central system (test-cs/), which operators and charger test cases can reconfigure.
import { CALL, encodeCallError, encodeCallResult, parseFrame } from '../ocpp/frames.js';
import { clip } from '../ocpp/wire-text.js';
import { createAnswerers, type TestCentralSystem } from './test-cs/index.js';
import type { TransactionIds } from './transaction-ids.js';
import type { Upstream, UpstreamFactory } from './upstream.js';

export interface LocalCsOptions {
  readonly testCs: TestCentralSystem;
  readonly transactionIds: TransactionIds;
}

export function localUpstreamFactory(options: LocalCsOptions): UpstreamFactory {
  const answerers = createAnswerers({ cs: options.testCs, transactionIds: options.transactionIds });
  return (chargeBoxId, handlers): Upstream => {
    let open = true;
    // Answer asynchronously, like a socket would, so ordering and re-entrancy match the SteVe path.
    setImmediate(() => open && handlers.open());
    return {
      kind: 'local',
      send(text, relayed) {
        // The relay's parse when it has one; frames it holds back or a fault rule rewrote come as text only.
        let frame = relayed;
        if (frame === undefined) {
          const parsed = parseFrame(text);
          if (!parsed.ok) return;
          frame = parsed.frame;
        }
        if (frame.type !== CALL) return; // answers to our own calls: none are made
        const { id, action, payload } = frame;
        const answer = answerers.get(action)?.(payload, chargeBoxId);
        const reply = !answer
          ? encodeCallError(id, 'NotImplemented', `the embedded central system does not handle ${clip(action, 64)}`)
          : answer.ok
            ? encodeCallResult(id, answer.payload)
            : encodeCallError(id, answer.code, answer.message);
        setImmediate(() => open && handlers.message(reply));
      },
      close() {
        open = false;
      },
    };
  };
}

// The embedded central system: when STEVE_WS_URL is unset, the gateway answers stations itself so that
// `npm start` works with nothing else installed. It answers like a permissive SteVe.
import { CALL, encodeCallError, encodeCallResult, parseFrame } from '../ocpp/frames.js';
import { clip } from '../ocpp/wire-text.js';
import type { Ocpp16Messages } from '../ocpp/generated/ocpp16.js';
import type { TransactionIds } from './transaction-ids.js';
import type { Upstream, UpstreamFactory } from './upstream.js';

export interface LocalCsOptions {
  readonly heartbeatIntervalS: number;
  readonly transactionIds: TransactionIds;
}

type StationAction =
  | 'BootNotification' | 'Heartbeat' | 'StatusNotification' | 'Authorize' | 'StartTransaction' | 'StopTransaction'
  | 'MeterValues' | 'DataTransfer' | 'DiagnosticsStatusNotification' | 'FirmwareStatusNotification';

type Answerers = { [A in StationAction]: (req: Ocpp16Messages[A]['req']) => Ocpp16Messages[A]['conf'] };

function answerers(options: LocalCsOptions): Answerers {
  const now = (): string => new Date().toISOString();
  return {
    BootNotification: () => ({ status: 'Accepted', currentTime: now(), interval: options.heartbeatIntervalS }),
    Heartbeat: () => ({ currentTime: now() }),
    StatusNotification: () => ({}),
    Authorize: () => ({ idTagInfo: { status: 'Accepted' } }),
    StartTransaction: () => ({ transactionId: options.transactionIds.next(), idTagInfo: { status: 'Accepted' } }),
    StopTransaction: (req) => (req.idTag ? { idTagInfo: { status: 'Accepted' } } : {}),
    MeterValues: () => ({}),
    DataTransfer: () => ({ status: 'Accepted' }),
    DiagnosticsStatusNotification: () => ({}),
    FirmwareStatusNotification: () => ({}),
  };
}

export function localUpstreamFactory(options: LocalCsOptions): UpstreamFactory {
  // A Map, not the object: the action is wire text, and "constructor" or "__proto__" must not find anything.
  const answer = new Map(Object.entries(answerers(options)) as [string, (req: unknown) => unknown][]);
  return (_chargeBoxId, handlers): Upstream => {
    let open = true;
    // Answer asynchronously, like a socket would, so ordering and re-entrancy match the SteVe path.
    setImmediate(() => open && handlers.open());
    return {
      kind: 'local',
      send(text) {
        const parsed = parseFrame(text);
        if (!parsed.ok || parsed.frame.type !== CALL) return; // answers to our own calls: none are made
        const { id, action, payload } = parsed.frame;
        const fn = answer.get(action);
        const reply = fn
          ? encodeCallResult(id, fn(payload))
          : encodeCallError(id, 'NotImplemented', `the embedded central system does not handle ${clip(action, 64)}`);
        setImmediate(() => open && handlers.message(reply));
      },
      close() {
        open = false;
      },
    };
  };
}

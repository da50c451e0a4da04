// How the test central system answers each call a station sends. Looked up by the action's wire text in a Map,
// so a station sending "constructor" or "hasOwnProperty" gets NotImplemented, never an inherited property.
import type { Ocpp16Messages } from '../../ocpp/generated/ocpp16.js';
import type { TransactionIds } from '../transaction-ids.js';
import type { TestCentralSystem } from './central-system.js';
import { checkSecurityRequest, SECURITY_ACTIONS } from './security.js';

export type Answer = { readonly ok: true; readonly payload: unknown } | { readonly ok: false; readonly code: string; readonly message: string };
/** Answers one request from the station `chargeBoxId`. */
export type Answerer = (req: unknown, chargeBoxId: string) => Answer;

type CoreAction =
  | 'BootNotification' | 'Heartbeat' | 'StatusNotification' | 'Authorize' | 'StartTransaction' | 'StopTransaction'
  | 'MeterValues' | 'DataTransfer' | 'DiagnosticsStatusNotification' | 'FirmwareStatusNotification';

type CoreAnswerers = { readonly [A in CoreAction]: (req: Ocpp16Messages[A]['req'], chargeBoxId: string) => Ocpp16Messages[A]['conf'] };

export interface AnswerDeps {
  readonly cs: TestCentralSystem;
  readonly transactionIds: TransactionIds;
  readonly now?: () => number;
}

export function createAnswerers(deps: AnswerDeps): ReadonlyMap<string, Answerer> {
  const now = deps.now ?? Date.now;
  const iso = (): string => new Date(now()).toISOString();
  const cs = deps.cs;
  const core: CoreAnswerers = {
    BootNotification: (_req, id) => {
      const s = cs.settingsFor(id);
      return s.boot.status === 'Accepted'
        ? { status: 'Accepted', currentTime: iso(), interval: s.heartbeatIntervalS }
        : { status: s.boot.status, currentTime: iso(), interval: s.boot.intervalS };
    },
    Heartbeat: () => ({ currentTime: iso() }),
    StatusNotification: () => ({}),
    Authorize: (req, id) => ({ idTagInfo: cs.idTagInfo(id, req.idTag, now()) }),
    // The transaction id is handed out whatever the tag's status: OCPP 1.6 §5.16 says the charge point then stops.
    StartTransaction: (req, id) => ({ transactionId: deps.transactionIds.next(), idTagInfo: cs.idTagInfo(id, req.idTag, now()) }),
    StopTransaction: (req, id) => (req.idTag ? { idTagInfo: cs.idTagInfo(id, req.idTag, now()) } : {}),
    MeterValues: () => ({}),
    DataTransfer: (_req, id) => ({ status: cs.settingsFor(id).dataTransfer }),
    DiagnosticsStatusNotification: () => ({}),
    FirmwareStatusNotification: () => ({}),
  };
  const answerers = new Map<string, Answerer>();
  for (const [action, fn] of Object.entries(core) as [CoreAction, (req: unknown, id: string) => unknown][]) {
    answerers.set(action, (req, id) => ({ ok: true, payload: fn(req, id) }));
  }
  for (const action of SECURITY_ACTIONS) {
    answerers.set(action, (req, id) => {
      const bad = checkSecurityRequest(action, req);
      if (bad) return { ok: false, ...bad };
      return { ok: true, payload: action === 'SignCertificate' ? { status: cs.settingsFor(id).signCertificate } : {} };
    });
  }
  return answerers;
}

// A simulated station's answers to the central system's calls, as the flashCharge firmware (MicroOcpp 1.2) gives
// them. A handler returns the CALLRESULT payload and, when the call changes something, what to do once the answer
// has been sent (a RemoteStart's Authorize must not overtake the RemoteStart's answer).
import type { Connector } from './connector.js';
import { cancelReservation, reserveNow } from './reservations.js';
import { getLocalListVersion, sendLocalList } from './local-list.js';
import { clearChargingProfile, getCompositeSchedule, setChargingProfile } from './smart-charging.js';

export type { CallAnswer, CallHost } from './call-host.js';
import type { CallAnswer, CallHost } from './call-host.js';

const plugs = (host: CallHost): Connector[] => host.connectors.slice(1);

/** `payload` has passed the OCPP 1.6 schema for `action`. */
export function answerCall(host: CallHost, action: string, payload: Record<string, unknown>, now: number): CallAnswer {
  const result = (r: Record<string, unknown>, after?: () => void): CallAnswer => ({ kind: 'result', result: r, ...(after ? { after } : {}) });
  switch (action) {
    case 'RemoteStartTransaction': {
      const c = remoteStartConnector(host, payload.connectorId as number | undefined);
      const idTag = payload.idTag as string;
      if (!c) return result({ status: 'Rejected' });
      return result({ status: 'Accepted' }, () => {
        if (host.keys.bool('AuthorizeRemoteTxRequests')) host.presentTag(c, idTag, now);
        else host.authorized(c, idTag, now);
      });
    }
    case 'RemoteStopTransaction': {
      const c = plugs(host).find((x) => x.tx?.id === payload.transactionId);
      if (!c) return result({ status: 'Rejected' });
      return result({ status: 'Accepted' }, () => host.stopTx(c, 'Remote', now));
    }
    case 'Reset': {
      const hard = payload.type === 'Hard';
      const reason = host.defects?.has('wrongResetStopReason') ? 'PowerLoss' : hard ? 'HardReset' : 'SoftReset';
      return result({ status: 'Accepted' }, () => {
        for (const c of plugs(host)) if (c.tx) host.stopTx(c, reason, now);
        host.scheduleReset(hard, now);
      });
    }
    case 'ChangeConfiguration': {
      const key = payload.key as string;
      const status = host.keys.change(key, payload.value as string);
      return result({ status }, status === 'Accepted' ? () => host.configChanged(key, now) : undefined);
    }
    case 'GetConfiguration': {
      const { known, unknown } = host.keys.read(payload.key as string[] | undefined);
      if (host.defects?.has('reportsUnknownKeysAsKnown')) return result({ configurationKey: [...known, ...unknown.map((key) => ({ key, readonly: false, value: '' }))] });
      return result({ configurationKey: known, ...(unknown.length > 0 ? { unknownKey: unknown } : {}) });
    }
    case 'TriggerMessage': {
      const connectorId = payload.connectorId as number | undefined;
      if (connectorId !== undefined && !host.connectors[connectorId]) return result({ status: 'Rejected' });
      return result({ status: 'Accepted' }, () => trigger(host, payload.requestedMessage as string, connectorId, now));
    }
    case 'ChangeAvailability':
      return result({ status: changeAvailability(host, payload.connectorId as number, payload.type === 'Operative') });
    case 'UnlockConnector': {
      const c = host.connectors[payload.connectorId as number];
      if (!c || c.id === 0) return result({ status: 'NotSupported' });
      return result({ status: 'Unlocked' }, c.tx ? () => host.stopTx(c, 'UnlockCommand', now) : undefined);
    }
    case 'ClearCache':
      return result({ status: 'Accepted' });
    case 'DataTransfer':
      // MicroOcpp answers Rejected unless the firmware registered a handler; flashCharge registers none.
      return result({ status: 'Rejected' });
    case 'ReserveNow':
      return reserveNow(host, payload, now);
    case 'CancelReservation':
      return cancelReservation(host, payload);
    case 'SendLocalList':
      return sendLocalList(host, payload);
    case 'GetLocalListVersion':
      return getLocalListVersion(host);
    case 'SetChargingProfile':
      return setChargingProfile(host, payload);
    case 'ClearChargingProfile':
      return clearChargingProfile(host, payload);
    case 'GetCompositeSchedule':
      return getCompositeSchedule(host, payload, now);
    default:
      return { kind: 'notSupported' };
  }
}

function remoteStartConnector(host: CallHost, connectorId: number | undefined): Connector | undefined {
  const usable = (c: Connector | undefined): c is Connector =>
    c !== undefined && c.id > 0 && !c.tx && !c.pendingAuth && !c.fault && !c.inoperative && !host.stationInoperative();
  if (connectorId !== undefined) {
    const c = host.connectors[connectorId];
    return usable(c) ? c : undefined;
  }
  const free = plugs(host).filter(usable);
  return free.find((c) => c.vehicle) ?? free[0];
}

function trigger(host: CallHost, requested: string, connectorId: number | undefined, now: number): void {
  switch (requested) {
    case 'BootNotification':
      host.enqueue('BootNotification', host.bootPayload(), (conf) => {
        if (conf?.status === 'Accepted' && typeof conf.interval === 'number' && conf.interval > 0) host.heartbeatInterval(conf.interval);
      });
      break;
    case 'Heartbeat':
      host.enqueue('Heartbeat', {});
      break;
    case 'StatusNotification':
      for (const c of connectorId !== undefined ? [host.connectors[connectorId]!] : host.connectors) host.reportStatus(c);
      break;
    case 'MeterValues':
      for (const c of connectorId ? [host.connectors[connectorId]!] : plugs(host)) if (c.id > 0) host.sendMeterValues(c, now);
      break;
    case 'DiagnosticsStatusNotification':
      host.enqueue('DiagnosticsStatusNotification', { status: 'Idle' });
      break;
    case 'FirmwareStatusNotification':
      host.enqueue('FirmwareStatusNotification', { status: 'Idle' });
      break;
  }
}

function changeAvailability(host: CallHost, connectorId: number, operative: boolean): 'Accepted' | 'Rejected' | 'Scheduled' {
  const target = host.connectors[connectorId];
  if (!target) return 'Rejected';
  const affected = connectorId === 0 ? plugs(host) : [target];
  let scheduled = false;
  if (connectorId === 0) host.setStationInoperative(!operative);
  for (const c of affected) {
    if (!operative && c.tx) {
      c.inoperativeScheduled = connectorId !== 0;
      scheduled = true;
    } else if (connectorId !== 0) {
      c.inoperative = !operative;
      c.inoperativeScheduled = false;
    }
  }
  host.refreshAll();
  return scheduled ? 'Scheduled' : 'Accepted';
}

// The operator console's pure modules in Node, loaded as the browser loads them: the schema check that refuses a
// form before sending (against the real OCPP 1.6J schemas the gateway serves) and the fleet filters and sort.
import { beforeAll, describe, expect, it } from 'vitest';
import { csToCpSchemas } from '../../src/api/ocpp-schemas-routes.js';

type Problem = { path: string; message: string };
let checkSchema: (schema: unknown, value: unknown) => Problem[];
let fleetView: (stations: unknown[], filter: Record<string, string>, sort?: string) => { shown: { id: string }[]; counts: Map<string, number> };
let stationStatus: (st: unknown) => string;

const schema = (action: string): unknown => {
  const found = csToCpSchemas().find((s) => s.action === action);
  if (!found) throw new Error(`no schema for ${action}`);
  return found.schema;
};

beforeAll(async () => {
  ({ checkSchema } = (await import(new URL('../../ui/js/ops/schema-check.js', import.meta.url).href)) as { checkSchema: typeof checkSchema });
  ({ fleetView, stationStatus } = (await import(new URL('../../ui/js/ops/fleet-filter.js', import.meta.url).href)) as { fleetView: typeof fleetView; stationStatus: typeof stationStatus });
});

describe('schema check (OCPP 1.6J request schemas)', () => {
  it('serves the request schema of every central-system action', () => {
    expect(csToCpSchemas().map((s) => s.action)).toHaveLength(19);
    expect(csToCpSchemas().every((s) => s.schema.$id === `urn:${s.action}.req`)).toBe(true);
  });

  it('accepts valid requests', () => {
    expect(checkSchema(schema('TriggerMessage'), { requestedMessage: 'Heartbeat' })).toEqual([]);
    expect(checkSchema(schema('ChangeConfiguration'), { key: 'HeartbeatInterval', value: '60' })).toEqual([]);
    expect(checkSchema(schema('SetChargingProfile'), {
      connectorId: 1,
      csChargingProfiles: { chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute', chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.5 }] } },
    })).toEqual([]);
  });

  it('names the field of each problem', () => {
    expect(checkSchema(schema('UnlockConnector'), {})).toEqual([{ path: 'connectorId', message: 'is required' }]);
    expect(checkSchema(schema('TriggerMessage'), { requestedMessage: 'Coffee' })[0]?.path).toBe('requestedMessage');
    expect(checkSchema(schema('ChangeConfiguration'), { key: 'k'.repeat(51), value: 'x' })[0]).toEqual({ path: 'key', message: 'is 51 characters; at most 50' });
    expect(checkSchema(schema('Reset'), { type: 'Hard', extra: 1 })[0]?.path).toBe('extra');
    expect(checkSchema(schema('ReserveNow'), { connectorId: 1, expiryDate: 'tomorrow', idTag: 'T', reservationId: 1 })[0]?.path).toBe('expiryDate');
    const deep = checkSchema(schema('SetChargingProfile'), {
      connectorId: 1,
      csChargingProfiles: { chargingProfileId: 1, stackLevel: 0, chargingProfilePurpose: 'TxDefaultProfile', chargingProfileKind: 'Absolute', chargingSchedule: { chargingRateUnit: 'A', chargingSchedulePeriod: [{ startPeriod: 0, limit: 16.55 }] } },
    });
    expect(deep[0]?.path).toBe('csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit');
    expect(checkSchema(schema('UnlockConnector'), { connectorId: 1.5 })[0]).toEqual({ path: 'connectorId', message: 'must be a whole number' });
  });
});

describe('fleet filters', () => {
  const st = (id: string, status: string, extra: Record<string, unknown> = {}) => ({
    id, online: true, linkKind: 'ws', upstream: 'local', openTx: [], findings: 0, summary: undefined,
    connectors: new Map([[1, { connectorId: 1, status }]]), ...extra,
  });
  const fleet = [
    st('A1', 'Available'),
    st('B2', 'Charging', { linkKind: 'serial', summary: { soc: 80, model: 'Rivot NX100' } }),
    st('C3', 'Faulted', { findings: 2 }),
    st('D4', 'Available', { online: false }),
    st('E5', 'Available', { connectors: new Map([[1, { connectorId: 1, status: 'Available' }], [2, { connectorId: 2, status: 'Faulted' }]]) }),
  ];

  it('gives each station its most urgent status, Offline when not connected', () => {
    expect(fleet.map((s) => stationStatus(s))).toEqual(['Available', 'Charging', 'Faulted', 'Offline', 'Faulted']);
  });

  it('counts by status and filters by text, status, link, findings and charging', () => {
    const all = fleetView(fleet, {});
    expect(Object.fromEntries(all.counts)).toEqual({ Available: 1, Charging: 1, Faulted: 2, Offline: 1 });
    expect(fleetView(fleet, { text: 'nx100' }).shown.map((s) => s.id)).toEqual(['B2']);
    expect(fleetView(fleet, { status: 'Faulted' }).shown.map((s) => s.id)).toEqual(['C3', 'E5']);
    expect(fleetView(fleet, { linkKind: 'serial' }).shown.map((s) => s.id)).toEqual(['B2']);
    expect(fleetView(fleet, { findings: 'yes' }).shown.map((s) => s.id)).toEqual(['C3']);
    expect(fleetView(fleet, { charging: 'yes' }).shown.map((s) => s.id)).toEqual(['B2']);
    // The relay's upstream state wins over the station's upstream kind.
    const withStates = [st('S1', 'Available', { upstream: 'steve', upstreamState: 'closed' }), st('S2', 'Available', { upstream: 'steve', upstreamState: 'open' }), st('L1', 'Available')];
    expect(fleetView(withStates, { upstream: 'closed' }).shown.map((s) => s.id)).toEqual(['S1']);
    expect(fleetView(withStates, { upstream: 'local' }).shown.map((s) => s.id)).toEqual(['L1']);
  });

  it('sorts by status (urgent first) and by SOC', () => {
    expect(fleetView(fleet, {}, 'status').shown.map((s) => s.id)).toEqual(['C3', 'E5', 'B2', 'A1', 'D4']);
    expect(fleetView(fleet, {}, 'soc').shown[0]?.id).toBe('B2');
  });
});

describe('texts shown to users', () => {
  it('carry no Markdown backticks', async () => {
    const { refusalMessage } = (await import(new URL('../../ui/js/auth-messages.js', import.meta.url).href)) as { refusalMessage: (code: string) => string };
    for (const code of ['token_malformed', 'token_bad_signature', 'token_expired', 'token_missing']) expect(refusalMessage(code)).not.toContain('`');
  });
});

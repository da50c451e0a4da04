// The test central system through a real gateway in embedded mode and real station WebSockets: today's permissive
// answers by default, the CONFIG_FILE section, REST, the tag store and the security-extension messages.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createGateway } from '../../src/gateway.js';
import { GatewayError } from '../../src/errors.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation, type StationClient } from '../support/station-client.js';

const BOOT = { chargePointVendor: 'Bench', chargePointModel: 'ESP32' };

function configFile(content: unknown): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'cb-testcs-')), 'config.json');
  writeFileSync(file, JSON.stringify(content));
  return file;
}

async function payloadOf(st: StationClient, action: string, payload: unknown): Promise<unknown> {
  const f = await st.call(action, payload);
  return f[0] === 3 ? f[2] : { callError: f[2], description: f[3] };
}

const stations: StationClient[] = [];
afterEach(() => {
  for (const s of stations.splice(0)) s.close();
});

async function station(gw: TestGateway, id: string): Promise<StationClient> {
  const s = await connectStation(gw.wsUrl(id));
  stations.push(s);
  return s;
}

describe('default: permissive, like before', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ LOCAL_HEARTBEAT_INTERVAL_S: '77' });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('accepts the boot with LOCAL_HEARTBEAT_INTERVAL_S, every tag, and answers unknown actions NotImplemented', async () => {
    const st = await station(gw, 'DEF-1');
    expect(await payloadOf(st, 'BootNotification', BOOT)).toMatchObject({ status: 'Accepted', interval: 77 });
    expect(await payloadOf(st, 'Authorize', { idTag: 'ANY' })).toEqual({ idTagInfo: { status: 'Accepted' } });
    const start = (await payloadOf(st, 'StartTransaction', { connectorId: 1, idTag: 'ANY', meterStart: 0, timestamp: new Date().toISOString() })) as { transactionId: number };
    expect(start.transactionId).toBeGreaterThan(0);
    expect(await payloadOf(st, 'DataTransfer', { vendorId: 'RivotMotors', messageId: 'X' })).toEqual({ status: 'Accepted' });
    // Wire text never reaches an inherited property.
    for (const action of ['hasOwnProperty', 'constructor', '__proto__']) {
      expect(await payloadOf(st, action, {})).toMatchObject({ callError: 'NotImplemented' });
    }
  });

  it('answers the 1.6 security-extension messages and refuses malformed ones with the matching error code', async () => {
    const st = await station(gw, 'SEC-1');
    const now = new Date().toISOString();
    expect(await payloadOf(st, 'SignCertificate', { csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----' })).toEqual({ status: 'Accepted' });
    expect(await payloadOf(st, 'SecurityEventNotification', { type: 'FirmwareUpdated', timestamp: now, techInfo: 'v2.4.1' })).toEqual({});
    expect(await payloadOf(st, 'LogStatusNotification', { status: 'Uploaded', requestId: 3 })).toEqual({});
    expect(await payloadOf(st, 'SignedFirmwareStatusNotification', { status: 'SignatureVerified', requestId: 4 })).toEqual({});
    expect(await payloadOf(st, 'SignCertificate', {})).toMatchObject({ callError: 'OccurenceConstraintViolation' });
    expect(await payloadOf(st, 'LogStatusNotification', { status: 'Done' })).toMatchObject({ callError: 'PropertyConstraintViolation' });
    expect(await payloadOf(st, 'SecurityEventNotification', { type: 'X', timestamp: 'yesterday' })).toMatchObject({ callError: 'PropertyConstraintViolation' });
    expect(await payloadOf(st, 'SignedFirmwareStatusNotification', { status: 'Installed', requestId: 'seven' })).toMatchObject({ callError: 'TypeConstraintViolation' });
  });
});

describe('configured from CONFIG_FILE and REST', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      CONFIG_FILE: configFile({
        testCentralSystem: {
          boot: { status: 'Pending', interval: 7 },
          heartbeatInterval: 30,
          unknownTags: 'Invalid',
          localListVersion: 4,
          signCertificate: 'Rejected',
          tags: {
            BLOCK1: { status: 'Blocked' },
            OLD1: { status: 'Accepted', expiryDate: '2020-01-01T00:00:00Z' },
            CHILD: { status: 'Accepted', parentIdTag: 'FLEET', expiryDate: '2099-01-01T00:00:00Z' },
            BUSY: { status: 'ConcurrentTx' },
          },
        },
      }),
    });
  });
  afterAll(async () => {
    await gw?.stop();
  });

  it('answers from the file: boot Pending with its interval, the tag store, unknown tags Invalid', async () => {
    const st = await station(gw, 'CFG-1');
    expect(await payloadOf(st, 'BootNotification', BOOT)).toMatchObject({ status: 'Pending', interval: 7 });
    expect(await payloadOf(st, 'Authorize', { idTag: 'BLOCK1' })).toEqual({ idTagInfo: { status: 'Blocked' } });
    expect(await payloadOf(st, 'Authorize', { idTag: 'OLD1' })).toEqual({ idTagInfo: { status: 'Expired', expiryDate: '2020-01-01T00:00:00.000Z' } });
    expect(await payloadOf(st, 'Authorize', { idTag: 'CHILD' })).toEqual({ idTagInfo: { status: 'Accepted', expiryDate: '2099-01-01T00:00:00.000Z', parentIdTag: 'FLEET' } });
    expect(await payloadOf(st, 'Authorize', { idTag: 'BUSY' })).toEqual({ idTagInfo: { status: 'ConcurrentTx' } });
    expect(await payloadOf(st, 'Authorize', { idTag: 'STRANGER' })).toEqual({ idTagInfo: { status: 'Invalid' } });
    const start = (await payloadOf(st, 'StartTransaction', { connectorId: 1, idTag: 'BLOCK1', meterStart: 0, timestamp: new Date().toISOString() })) as Record<string, unknown>;
    expect(start).toMatchObject({ idTagInfo: { status: 'Blocked' } });
    expect(typeof start.transactionId).toBe('number');
    expect(await payloadOf(st, 'SignCertificate', { csr: 'x' })).toEqual({ status: 'Rejected' });
  });

  it('GET shows the settings; PUT replaces them (from the file\'s values); tags are set and removed one by one', async () => {
    const got = await gw.getJson<{ mode: string; active: boolean; settings: { boot: unknown; localListVersion: number; tags: Record<string, unknown> } }>('/api/test-cs');
    expect(got).toMatchObject({ mode: 'local', active: true, settings: { boot: { status: 'Pending', interval: 7 }, localListVersion: 4 } });
    expect(Object.keys(got.settings.tags).sort()).toEqual(['BLOCK1', 'BUSY', 'CHILD', 'OLD1']);

    const put = await fetch(`${gw.httpUrl}/api/test-cs`, {
      method: 'PUT', headers: { ...gw.authHeader(), 'content-type': 'application/json' },
      body: JSON.stringify({ boot: { status: 'Accepted' }, heartbeatInterval: 42, unknownTags: 'Accepted' }),
    });
    expect(put.status).toBe(200);
    const st = await station(gw, 'CFG-2');
    expect(await payloadOf(st, 'BootNotification', BOOT)).toMatchObject({ status: 'Accepted', interval: 42 });
    expect(await payloadOf(st, 'Authorize', { idTag: 'STRANGER' })).toEqual({ idTagInfo: { status: 'Accepted' } });

    // Odd ids are ordinary keys.
    for (const idTag of ['__proto__', 'hasOwnProperty']) {
      const res = await fetch(`${gw.httpUrl}/api/test-cs/tags/${idTag}`, { method: 'PUT', headers: { ...gw.authHeader(), 'content-type': 'application/json' }, body: '{"status":"Blocked"}' });
      expect(res.status).toBe(200);
      expect(await payloadOf(st, 'Authorize', { idTag })).toEqual({ idTagInfo: { status: 'Blocked' } });
    }
    const tags = await gw.getJson<{ tags: Record<string, unknown> }>('/api/test-cs/tags');
    expect(Object.keys(tags.tags)).toContain('__proto__');
    expect((await fetch(`${gw.httpUrl}/api/test-cs/tags/hasOwnProperty`, { method: 'DELETE', headers: gw.authHeader() })).status).toBe(204);
    expect(await payloadOf(st, 'Authorize', { idTag: 'hasOwnProperty' })).toEqual({ idTagInfo: { status: 'Accepted' } });
    expect((await fetch(`${gw.httpUrl}/api/test-cs/tags/NOPE`, { method: 'DELETE', headers: gw.authHeader() })).status).toBe(404);
  });

  it('refuses bad settings with the field and a reason, and viewers', async () => {
    const put = async (body: unknown, headers = gw.authHeader()) =>
      fetch(`${gw.httpUrl}/api/test-cs`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const bad = await put({ boot: { status: 'Maybe' } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: 'GW_ERR_TEST_CS_INVALID', field: 'boot.status', message: 'boot.status must be one of Accepted, Pending, Rejected, got "Maybe"' } });
    const typo = await put({ heartbeatIntervall: 5 });
    expect(((await typo.json()) as { error: { message: string } }).error.message).toMatch(/unknown field heartbeatIntervall/);
    const tag = await fetch(`${gw.httpUrl}/api/test-cs/tags/T1`, { method: 'PUT', headers: { ...gw.authHeader(), 'content-type': 'application/json' }, body: '{"status":"Accepted","expiryDate":"soon"}' });
    expect(tag.status).toBe(400);
    expect(((await tag.json()) as { error: { field: string } }).error.field).toBe('tags.T1.expiryDate');
    expect((await fetch(`${gw.httpUrl}/api/test-cs`, { headers: gw.authHeader('viewer', ['CFG-1']) })).status).toBe(403);
    expect((await put({}, gw.authHeader('viewer', ['CFG-1']))).status).toBe(403);
  });
});

describe('CONFIG_FILE testCentralSystem section', () => {
  it('stops the gateway with a line naming the bad field', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-testcs-bad-'));
    const config = loadConfig({
      PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SIM_STATIONS: '0', DATA_DIR: dataDir,
      CONFIG_FILE: configFile({ testCentralSystem: { tags: { T1: { status: 'Stolen' } } } }),
    });
    const err = await createGateway(config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('GW_ERR_CONFIG');
    expect((err as GatewayError).message).toBe('CONFIG_FILE: testCentralSystem.tags.T1.status must be one of Accepted, Blocked, Expired, Invalid, ConcurrentTx, got "Stolen"');
  });
});

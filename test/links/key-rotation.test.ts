// Security profile 1/2 key rotation through a real gateway and the SteVe stand-in: ChangeConfiguration
// AuthorizationKey accepted by the station → the gateway learns the key (scrypt-hashed in DATA_DIR), accepts the
// station with it (and no longer with the old password), across a restart; the key's value is shown nowhere.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/events/observations.js';
import pino from 'pino';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { ack, collect, connect, until } from '../push/support/harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const basic = (u: string, p: string) => ({ authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
const OLD = 'old-station-password-16';
const STEVE_OLD = 'steve-side-password-16';

interface Rig {
  steve: SteveDouble;
  steveAuth: Record<string, string>;
  dataDir: string;
  configFile: string;
  logLines: string[];
  start(): Promise<TestGateway>;
}

async function rig(stations: string[]): Promise<Rig> {
  const steveAuth: Record<string, string> = Object.fromEntries(stations.map((id) => [id, STEVE_OLD]));
  const steve = await startSteveDouble({ basicAuth: steveAuth, getConfigurationOnConnect: false });
  cleanups.push(() => steve.close());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-keys-'));
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ stations: Object.fromEntries(stations.map((id) => [id, { password: OLD, upstreamPassword: STEVE_OLD }])) }));
  const dataDir = path.join(dir, 'data');
  const logLines: string[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { logLines.push(chunk.toString()); cb(); } });
  return {
    steve, steveAuth, dataDir, configFile, logLines,
    async start() {
      // A logger without pino's redaction: the gateway itself must never hand the key to a log line.
      const gw = await startGateway(
        { STEVE_WS_URL: steve.url, CONFIG_FILE: configFile, DATA_DIR: dataDir, JWT_SECRET: 'key-rotation-test-secret-0123456789abcdef' },
        { logger: pino({ level: 'trace' }, sink) },
      );
      let stopped = false;
      cleanups.push(async () => { if (!stopped) await gw.stop(); });
      const stop = gw.stop.bind(gw);
      gw.stop = async () => { stopped = true; await stop(); };
      return gw;
    },
  };
}

async function station(gw: TestGateway, id: string, password: string): Promise<StationClient> {
  const st = await connectStation(gw.wsUrl(id), { headers: basic(id, password), autoAnswer: false });
  cleanups.push(() => st.close());
  return st;
}

/** SteVe sends ChangeConfiguration; the station answers with `status`; resolves with what SteVe got back. */
async function rotate(steve: SteveDouble, st: StationClient, id: string, key: string, status: string): Promise<unknown[]> {
  await until(() => steve.sockets.has(id), 5000, `${id} upstream open`);
  const answered = steve.call(id, 'ChangeConfiguration', { key: 'AuthorizationKey', value: key });
  const req = await st.waitFor((f) => f[0] === 2 && f[2] === 'ChangeConfiguration');
  // The station gets the original bytes.
  expect((req[3] as { value: string }).value).toBe(key);
  st.sendRaw(JSON.stringify([3, req[1], { status }]));
  return answered;
}

async function refusedWith(gw: TestGateway, id: string, password: string): Promise<number | undefined> {
  try {
    const st = await connectStation(gw.wsUrl(id), { headers: basic(id, password) });
    st.close();
    return undefined;
  } catch (err) {
    return (err as { status?: number }).status;
  }
}

describe('AuthorizationKey rotation (security profile 1/2)', () => {
  it('learns the key SteVe set, accepts the station with it (also after a restart), refuses the old password, shows the key nowhere', async () => {
    const r = await rig(['CP1']);
    const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'; // 20 bytes, hex
    let gw = await r.start();
    // An operator watching the live frame stream.
    const op = await connect(gw.httpUrl, { token: gw.push.issueToken({ sub: 'op', role: 'operator', ttl: '1h' }) });
    cleanups.push(() => { op.close(); });
    const frames = collect<LogEntry>(op, 'frame');
    await ack(op, 'frames:subscribe', {});

    let st = await station(gw, 'CP1', OLD);
    expect((await st.call('Heartbeat', {}))[0]).toBe(3);
    const answer = await rotate(r.steve, st, 'CP1', KEY, 'Accepted');
    expect(answer[2]).toEqual({ status: 'Accepted' });
    // The station also reports its configuration, key included (some firmwares do).
    const getConf = r.steve.call('CP1', 'GetConfiguration', {});
    const gc = await st.waitFor((f) => f[0] === 2 && f[2] === 'GetConfiguration');
    st.sendRaw(JSON.stringify([3, gc[1], { configurationKey: [{ key: 'AuthorizationKey', readonly: false, value: KEY }, { key: 'HeartbeatInterval', readonly: false, value: '60' }] }]));
    const gcAnswer = await getConf;
    expect(JSON.stringify(gcAnswer)).toContain(KEY); // SteVe gets the original bytes
    st.close();
    await st.closed;

    // SteVe now expects the new key too (it set it).
    r.steveAuth.CP1 = KEY;
    st = await station(gw, 'CP1', KEY);
    expect((await st.call('Heartbeat', {}, 'after-rotation'))[0]).toBe(3);
    await r.steve.waitFor((f) => f.chargeBoxId === 'CP1' && f.frame[1] === 'after-rotation');
    st.close();
    await st.closed;
    expect(await refusedWith(gw, 'CP1', OLD)).toBe(401);
    const health = await gw.getJson<{ stationAuth: { learnedKeys: number; redactedFrames: number } }>('/api/health');
    expect(health.stationAuth.learnedKeys).toBe(1);
    expect(health.stationAuth.redactedFrames).toBeGreaterThanOrEqual(2);

    // Nothing shows the key: message log files and API (json, jsonl, csv), frame stream, events, logs.
    await until(() => frames.some((f) => f.action === 'GetConfiguration' && f.messageType === 'CALLRESULT'), 5000, 'frames streamed');
    const msgs = async (q: string) => {
      const res = await fetch(`${gw.httpUrl}/api/messages?chargeBoxId=CP1&limit=1000${q}`, { headers: gw.authHeader() });
      expect(res.status).toBe(200);
      return res.text();
    };
    let json = '';
    const deadline = Date.now() + 5000;
    while (!json.includes('after-rotation') && Date.now() < deadline) json = await msgs('');
    expect(json).toContain('AuthorizationKey');
    const entries = (JSON.parse(json) as { entries: LogEntry[] }).entries;
    const change = entries.find((e) => e.action === 'ChangeConfiguration' && e.messageType === 'CALL');
    expect(change?.raw).toContain('AuthorizationKey');
    expect((change?.payload as { value?: string }).value).toMatch(/redacted/);
    for (const text of [json, await msgs('&format=jsonl'), await msgs('&format=csv'), JSON.stringify(frames)]) {
      expect(text).not.toContain(KEY);
    }
    const events = await (await fetch(`${gw.httpUrl}/api/events?chargeBoxId=CP1`, { headers: gw.authHeader() })).text();
    expect(events).not.toContain(KEY);

    await gw.stop();
    const files = readdirSync(path.join(r.dataDir, 'messages'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(readFileSync(path.join(r.dataDir, 'messages', f)).includes(KEY), f).toBe(false);
    // The learned key is on disk only as a hash.
    const stored = readFileSync(path.join(r.dataDir, 'station-keys.json'), 'utf8');
    expect(stored).toContain('CP1');
    expect(stored).not.toContain(KEY);
    expect(r.logLines.length).toBeGreaterThan(0);
    expect(r.logLines.join('')).not.toContain(KEY);

    // A restart on the same DATA_DIR keeps the learned key.
    gw = await r.start();
    st = await station(gw, 'CP1', KEY);
    expect((await st.call('Heartbeat', {}, 'after-restart'))[0]).toBe(3);
    await r.steve.waitFor((f) => f.chargeBoxId === 'CP1' && f.frame[1] === 'after-restart');
    expect(await refusedWith(gw, 'CP1', OLD)).toBe(401);
    expect(await refusedWith(gw, 'CP1', `${KEY}0`)).toBe(401);
    await gw.stop();
    expect(r.logLines.join('')).not.toContain(KEY);
  }, 60_000);

  it('a Rejected answer changes nothing', async () => {
    const r = await rig(['CP2']);
    const KEY = 'ffeeddccbbaa99887766554433221100';
    const gw = await r.start();
    const st = await station(gw, 'CP2', OLD);
    expect((await rotate(r.steve, st, 'CP2', KEY, 'Rejected'))[2]).toEqual({ status: 'Rejected' });
    st.close();
    await st.closed;
    await new Promise((res) => setTimeout(res, 300));
    expect(await refusedWith(gw, 'CP2', KEY)).toBe(401);
    const again = await station(gw, 'CP2', OLD);
    expect((await again.call('Heartbeat', {}))[0]).toBe(3);
  });

  it('a key an operator set through the API: learned too, and SteVe keeps getting upstreamPassword', async () => {
    const r = await rig(['CP3']);
    const KEY = '00112233445566778899aabbccddeeff';
    const gw = await r.start();
    const st = await station(gw, 'CP3', OLD);
    const res = fetch(`${gw.httpUrl}/api/stations/CP3/calls`, {
      method: 'POST',
      headers: { ...gw.authHeader(), 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'ChangeConfiguration', payload: { key: 'AuthorizationKey', value: KEY } }),
    });
    const req = await st.waitFor((f) => f[0] === 2 && f[2] === 'ChangeConfiguration');
    st.sendRaw(JSON.stringify([3, req[1], { status: 'Accepted' }]));
    expect(((await (await res).json()) as { outcome: unknown }).outcome).toMatchObject({ kind: 'result', payload: { status: 'Accepted' } });
    st.close();
    await st.closed;
    // SteVe did not set this key, so it still expects the configured upstreamPassword.
    const next = await station(gw, 'CP3', KEY);
    expect((await next.call('Heartbeat', {}, 'op-rotated'))[0]).toBe(3);
    await r.steve.waitFor((f) => f.chargeBoxId === 'CP3' && f.frame[1] === 'op-rotated');
    expect(await refusedWith(gw, 'CP3', OLD)).toBe(401);
    // An operator reading the configuration back does not get the key either (the station still sent it).
    const read = fetch(`${gw.httpUrl}/api/stations/CP3/calls`, {
      method: 'POST',
      headers: { ...gw.authHeader(), 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'GetConfiguration', payload: { key: ['AuthorizationKey'] } }),
    });
    const gc = await next.waitFor((f) => f[0] === 2 && f[2] === 'GetConfiguration');
    next.sendRaw(JSON.stringify([3, gc[1], { configurationKey: [{ key: 'AuthorizationKey', readonly: false, value: KEY }] }]));
    const readBody = await (await read).text();
    expect(readBody).toContain('AuthorizationKey');
    expect(readBody).not.toContain(KEY);
    const all = await (await fetch(`${gw.httpUrl}/api/messages?chargeBoxId=CP3&limit=1000&format=jsonl`, { headers: gw.authHeader() })).text();
    expect(all).toContain('ChangeConfiguration');
    expect(all).not.toContain(KEY);
  });

  it('a flood of wrong passwords for a station with a learned key: all refused (401 or 503), other stations connect meanwhile', async () => {
    const r = await rig(['CP4', 'CP5']);
    const KEY = '99887766554433221100ffeeddccbbaa';
    const gw = await r.start();
    const st = await station(gw, 'CP4', OLD);
    await rotate(r.steve, st, 'CP4', KEY, 'Accepted');
    st.close();
    await st.closed;
    const flood = Array.from({ length: 100 }, (_, i) => refusedWith(gw, 'CP4', `wrong-${i}-0123456789abcdef`));
    const other = await station(gw, 'CP5', OLD);
    expect((await other.call('Heartbeat', {}, 'during-flood'))[0]).toBe(3);
    const statuses = await Promise.all(flood);
    expect(statuses.every((s) => s === 401 || s === 503)).toBe(true);
    r.steveAuth.CP4 = KEY;
    const back = await station(gw, 'CP4', KEY);
    expect((await back.call('Heartbeat', {}))[0]).toBe(3);
  }, 60_000);

  it('a damaged station-keys.json stops the start with the file named and the fix', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-keys-bad-'));
    writeFileSync(path.join(dataDir, 'station-keys.json'), '{"version":1,"stations":{"CP1":{}}}');
    await expect(startGateway({ DATA_DIR: dataDir })).rejects.toThrow(/station-keys\.json is not valid.*delete it/);
  });
});

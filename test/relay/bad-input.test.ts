// What bad input gets (README "What bad input gets"), through a real gateway over real sockets: no frame ends the
// process, none reaches SteVe malformed, SteVe's calls are always answered, and well-behaved stations never notice.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { FrameObservation } from '../../src/events/observations.js';
import { MAX_FRAME_DEPTH } from '../../src/ocpp/frames.js';
import { MAX_VALIDATED_CHARS } from '../../src/ocpp/validate.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { connectStation, type StationClient } from '../support/station-client.js';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const OCPP16_CODES = [
  'NotImplemented', 'NotSupported', 'InternalError', 'ProtocolError', 'SecurityError', 'FormationViolation',
  'PropertyConstraintViolation', 'OccurenceConstraintViolation', 'TypeConstraintViolation', 'GenericError',
];

/** MESSAGE_LOG_MAX_RAW_BYTES at 1 MiB (the default before 2026-12-07): frames up to it are logged and observed whole. */
const WHOLE_TO_1MIB = { MESSAGE_LOG_MAX_RAW_BYTES: String(1024 * 1024) };

async function relayMode(env: Record<string, string> = {}): Promise<{ steve: SteveDouble; gw: TestGateway }> {
  const steve = await startSteveDouble({ getConfigurationOnConnect: false });
  cleanups.push(() => steve.close());
  const gw = await startGateway({ STEVE_WS_URL: steve.url, ...env });
  cleanups.push(() => gw.stop());
  return { steve, gw };
}

async function embeddedMode(env: Record<string, string> = {}): Promise<TestGateway> {
  const gw = await startGateway(env);
  cleanups.push(() => gw.stop());
  return gw;
}

async function station(url: string, opts?: Parameters<typeof connectStation>[1]): Promise<StationClient> {
  const st = await connectStation(url, opts);
  cleanups.push(() => st.close());
  return st;
}

/** Every frame observation the relay hands to observers. */
function observe(gw: TestGateway): FrameObservation[] {
  const seen: FrameObservation[] = [];
  cleanups.push(gw.bus.on('frame', (f) => seen.push(f)));
  return seen;
}

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const deepArray = (n: number): string => `${'['.repeat(n)}${']'.repeat(n)}`;
const deepObject = (n: number): string => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
const isAnswerTo = (id: string) => (f: unknown[]): boolean => (f[0] === 3 || f[0] === 4) && f[1] === id;

/** Frames nested past the limit in every position; `answered` are the CALL ids that get a CALLERROR. */
function deepBattery(tag: string): { frames: string[]; answered: string[] } {
  const deep = deepArray(5000);
  return {
    frames: [
      `[${deep},"${tag}-type","Heartbeat",{}]`,
      `[2,${deep},"Heartbeat",{}]`,
      `[2,"${tag}-act",${deep},{}]`,
      `[2,"${tag}-pay","DataTransfer",{"vendorId":"x","data":${deepObject(10_000)}}]`,
      `[2,"${tag}-lim","DataTransfer",{"vendorId":"x","data":${deepArray(MAX_FRAME_DEPTH - 1)}}]`,
      `[3,"${tag}-res",{"a":${deep}}]`,
      `[4,"${tag}-err","GenericError","",{"a":${deep}}]`,
      deep,
      '['.repeat(2 * 1024 * 1024),
    ],
    answered: [`${tag}-act`, `${tag}-pay`, `${tag}-lim`],
  };
}

describe('deeply nested frames (issue 12, item 2)', () => {
  for (const mode of ['relay', 'embedded'] as const) {
    it(`are refused with a CALLERROR when the id is readable, recorded, never forwarded (${mode} mode)`, async () => {
      const { steve, gw } = mode === 'relay' ? await relayMode() : { steve: undefined, gw: await embeddedMode() };
      const seen = observe(gw);
      const st = await station(gw.wsUrl('CP-deep'));
      const { frames, answered } = deepBattery('d');
      for (const text of frames) st.sendRaw(text);
      for (const id of answered) {
        const err = await st.waitFor(isAnswerTo(id), 10_000);
        expect(err[0]).toBe(4);
        expect(err[2]).toBe('FormationViolation');
        expect(String(err[3])).toMatch(new RegExp(`deeper than ${MAX_FRAME_DEPTH}`));
      }
      // Deep-looking text inside a string is only text: relayed and answered.
      const inString = await st.call('DataTransfer', { vendorId: 'x', data: '['.repeat(10_000) }, 'd-str');
      expect(inString[0]).toBe(3);
      expect((await st.call('Heartbeat', {}, 'd-after'))[0]).toBe(3);
      if (steve) expect(steve.received.filter((f) => f.chargeBoxId === 'CP-deep').map((f) => f.frame[1])).toEqual(['d-str', 'd-after']);

      await until(() => seen.some((o) => o.messageId === 'd-after' && o.messageType === 'CALLRESULT'), 'observations');
      const refused = seen.filter((o) => o.disposition === 'refused' && o.chargeBoxId === 'CP-deep');
      expect(refused).toHaveLength(frames.length);
      for (const o of refused) {
        expect(o.problem).toMatch(/deeper than/);
        expect(o.raw.length).toBeLessThan(5000); // a refused frame is recorded clipped
      }
      // The message log reads back (no recursion anywhere), each refusal with its finding. It numbers what the bus
      // saw in slices after the relay's turn, so the read is repeated until the last of them is there.
      let logged: { disposition: string; findings: { rule: string }[] }[] = [];
      for (const deadline = Date.now() + 10_000; logged.length < frames.length && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
        const page = await gw.getJson<{ entries: { disposition: string; findings: { rule: string }[] }[] }>('/api/messages?chargeBoxId=CP-deep&limit=100');
        logged = page.entries.filter((e) => e.disposition === 'refused');
      }
      expect(logged).toHaveLength(frames.length);
      expect(logged.every((e) => e.findings.some((f) => /^frame\./.test(f.rule)))).toBe(true);
    });
  }
});

describe('deeply nested JSON inside a DataTransfer data string (issue 12, item 2)', () => {
  it('is refused as vendor data with a finding, and the events stay readable', async () => {
    // Frames of 120 KB: observed whole only with a log limit above them.
    const gw = await embeddedMode(WHOLE_TO_1MIB);
    const st = await station(gw.wsUrl('CP-vendor'));
    const deep = deepArray(20_000);
    for (const messageId of ['BMSAlert', 'PreChargeData', 'SessionSummary']) {
      const data = `{"alertType":"BMS_CHARGING_ENABLED","soc":${deep},"model":${deep},"finalSoc":${deep}}`;
      expect((await st.call('DataTransfer', { vendorId: 'RivotMotors', messageId, data }))[0]).toBe(3);
    }
    type Events = { events: { type: string; data: { message?: string } }[] };
    let events: Events['events'] = [];
    const findings = (): number => events.filter((e) => e.type === 'finding' && /deeper than/.test(e.data.message ?? '')).length;
    for (const deadline = Date.now() + 10_000; findings() < 3 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      events = (await gw.getJson<Events>('/api/events?chargeBoxId=CP-vendor&limit=100')).events;
    }
    expect(findings()).toBe(3);
    expect(events.some((e) => e.type === 'bmsAlert')).toBe(false);
  });
});

describe('the embedded central system (issue 12, item 1)', () => {
  it('answers inherited property names as actions with NotImplemented and keeps answering', async () => {
    const gw = await embeddedMode();
    const st = await station(gw.wsUrl('CP-proto'));
    const names = ['hasOwnProperty', '__proto__', 'valueOf', 'toLocaleString', 'toString', 'constructor', 'isPrototypeOf', 'propertyIsEnumerable', '__defineGetter__', '__lookupGetter__'];
    for (const [i, name] of names.entries()) {
      const answer = await st.call(name, { a: 1 }, `p${i}`);
      expect(answer[0]).toBe(4);
      expect(answer[2]).toBe('NotImplemented');
    }
    expect((await st.call('Heartbeat', {}, 'p-after'))[0]).toBe(3);
  });
});

describe('unreadable message ids (issue 12, item 8)', () => {
  it('echoes a number or an over-long string id in a FormationViolation; an id too long to echo gets no answer', async () => {
    const { steve, gw } = await relayMode();
    const seen = observe(gw);
    const st = await station(gw.wsUrl('CP-ids'));
    st.sendRaw('[2,5,"Heartbeat",{}]');
    st.sendRaw(`[2,"${'i'.repeat(40)}","Heartbeat",{}]`);
    st.sendRaw('[2,"","Heartbeat",{}]');
    st.sendRaw(`[2,"${'j'.repeat(500)}","Heartbeat",{}]`);
    st.sendRaw('[2,null,"Heartbeat",{}]');
    const num = await st.waitFor((f) => f[0] === 4 && f[1] === '5');
    expect(num[2]).toBe('FormationViolation');
    expect(String(num[3])).toMatch(/message id must be a string of 1\.\.36 characters, got 5/);
    expect((await st.waitFor((f) => f[0] === 4 && f[1] === 'i'.repeat(40)))[2]).toBe('FormationViolation');
    expect((await st.waitFor((f) => f[0] === 4 && f[1] === ''))[2]).toBe('FormationViolation');
    expect((await st.call('Heartbeat', {}, 'ids-after'))[0]).toBe(3);
    expect(st.received.filter((f) => f[0] === 4)).toHaveLength(3);
    expect(steve.received.filter((f) => f.chargeBoxId === 'CP-ids').map((f) => f.frame[1])).toEqual(['ids-after']);
    await until(() => seen.filter((o) => o.disposition === 'refused').length === 5, 'five refusals');
  });

  it('closes a text frame that is not UTF-8 with 1007 and records it', async () => {
    const { gw } = await relayMode();
    const seen = observe(gw);
    const st = await station(gw.wsUrl('CP-utf8'));
    st.ws.send(Buffer.from([0x5b, 0x32, 0x2c, 0x22, 0xff, 0xfe, 0x22, 0x5d]), { binary: false });
    const closed = await st.closed;
    expect(closed.code).toBe(1007);
    await until(() => seen.some((o) => o.chargeBoxId === 'CP-utf8' && o.disposition === 'refused'), 'the refusal');
    expect(seen.find((o) => o.chargeBoxId === 'CP-utf8' && o.disposition === 'refused')?.problem).toMatch(/UTF-8/);
    const other = await station(gw.wsUrl('CP-utf8-next'));
    expect((await other.call('Heartbeat', {}))[0]).toBe(3);
  });
});

describe('large valid frames (issue 12, item 5)', () => {
  it('are relayed, and observers skip the schema check above MAX_VALIDATED_CHARS with a finding', async () => {
    const { steve, gw } = await relayMode(WHOLE_TO_1MIB);
    const st = await station(gw.wsUrl('CP-large'));
    // idTag over 20 characters breaks the schema; the small one is reported, the large one only skipped.
    expect((await st.call('Authorize', { idTag: 'x'.repeat(30) }, 'large-small'))[0]).toBe(3);
    expect((await st.call('Authorize', { idTag: 'x'.repeat(MAX_VALIDATED_CHARS) }, 'large-big'))[0]).toBe(3);
    expect(steve.received.filter((f) => f.chargeBoxId === 'CP-large').map((f) => f.frame[1])).toEqual(['large-small', 'large-big']);
    type Page = { entries: { messageId?: string; messageType?: string; findings: { rule: string; message: string }[] }[] };
    let entries: Page['entries'] = [];
    for (const deadline = Date.now() + 10_000; entries.length < 4 && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      entries = (await gw.getJson<Page>('/api/messages?chargeBoxId=CP-large&limit=10')).entries;
    }
    const call = (id: string) => entries.find((e) => e.messageId === id && e.messageType === 'CALL');
    expect(call('large-small')?.findings.map((f) => f.rule)).toEqual(['schema.maxLength']);
    expect(call('large-big')?.findings.map((f) => f.rule)).toEqual(['schema.skipped']);
    expect(call('large-big')?.findings[0]?.message).toMatch(/not checked against the schema/);
  });
});

describe('action names (text observers key by)', () => {
  it('answers an over-long action NotImplemented without forwarding it, and counts unknown actions under one label', async () => {
    const { steve, gw } = await relayMode();
    const st = await station(gw.wsUrl('CP-act'));
    const long = await st.call('A'.repeat(100_000), {}, 'act-long');
    expect(long.slice(0, 3)).toEqual([4, 'act-long', 'NotImplemented']);
    for (let i = 0; i < 20; i++) expect((await st.call(`Vendor${i}`, {}, `act-${i}`))[0]).toBe(3); // SteVe answers them
    expect(steve.received.filter((f) => f.chargeBoxId === 'CP-act').map((f) => f.frame[1])).not.toContain('act-long');
    const read = async (): Promise<string> => (await fetch(`${gw.httpUrl}/metrics`, { headers: gw.authHeader() })).text();
    let text = await read();
    for (let i = 0; i < 100 && !/action="other"\} 20$/m.test(text); i++) text = await new Promise((r) => setTimeout(r, 50)).then(read);
    expect(text).toMatch(/^chargebridge_frames_total\{leg="station",direction="in",disposition="forwarded",action="other"\} 20$/m);
    expect(text).not.toMatch(/Vendor\d/);
  });
});

describe('frames the WebSocket layer refuses', () => {
  it('closes a frame over MAX_FRAME_BYTES with 1009 and records it', async () => {
    const steve = await startSteveDouble({ getConfigurationOnConnect: false });
    cleanups.push(() => steve.close());
    const gw = await startGateway({ STEVE_WS_URL: steve.url, MAX_FRAME_BYTES: '4096' });
    cleanups.push(() => gw.stop());
    const seen = observe(gw);
    const st = await station(gw.wsUrl('CP-huge'));
    st.sendRaw(JSON.stringify([2, 'huge', 'DataTransfer', { vendorId: 'x', data: 'y'.repeat(5000) }]));
    const closed = await st.closed;
    expect(closed.code).toBe(1009);
    await until(() => seen.some((o) => o.chargeBoxId === 'CP-huge' && o.disposition === 'refused'), 'the refusal');
    expect(seen.find((o) => o.chargeBoxId === 'CP-huge' && o.disposition === 'refused')?.raw).toBe('<frame larger than the maximum>');
    expect(steve.received.filter((f) => f.chargeBoxId === 'CP-huge')).toEqual([]);
  });
});

describe("a station's answers to SteVe's calls (issue 12, item 6)", () => {
  it('reach SteVe with an OCPP 1.6 error code, the original kept in the description and recorded', async () => {
    const { steve, gw } = await relayMode();
    const seen = observe(gw);
    const st = await station(gw.wsUrl('CP-codes'), { autoAnswer: false });
    await st.call('Heartbeat', {}, 'codes-open'); // upstream open
    const cases: [string, string][] = [
      ['FormatViolation', 'FormationViolation'],
      ['OccurrenceConstraintViolation', 'OccurenceConstraintViolation'],
      ['', 'GenericError'],
      ['constructor', 'GenericError'],
      ['x'.repeat(5000), 'GenericError'],
      ['NotSupported', 'NotSupported'],
    ];
    const handled = new Set<unknown>();
    for (const [sent, expected] of cases) {
      const pending = steve.call('CP-codes', 'GetConfiguration', {}, 10_000);
      const call = await st.waitFor((f) => f[0] === 2 && !handled.has(f[1]), 10_000);
      handled.add(call[1]);
      st.sendRaw(JSON.stringify([4, call[1], sent, 'station description', { hint: 'kept' }]));
      const got = await pending;
      expect(got[0]).toBe(4);
      expect(got[1]).toBe(call[1]);
      expect(got[2]).toBe(expected);
      expect(OCPP16_CODES).toContain(got[2]);
      expect(String(got[3])).toMatch(/^station description/);
      if (sent !== expected) expect(String(got[3])).toContain(JSON.stringify(sent.slice(0, 30)).slice(0, -1));
      expect(String(got[3]).length).toBeLessThan(600);
      expect(got[4]).toEqual({ hint: 'kept' });
    }
    expect(steve.closes.filter((c) => c.chargeBoxId === 'CP-codes')).toEqual([]);
    await until(() => seen.filter((o) => o.chargeBoxId === 'CP-codes' && o.disposition === 'refused').length === 5, 'refusals');
    const refusals = seen.filter((o) => o.chargeBoxId === 'CP-codes' && o.disposition === 'refused');
    expect(refusals[0]?.problem).toMatch(/"FormatViolation" is not an OCPP 1\.6 code/);
    expect(refusals.every((o) => (o.problem ?? '').length < 300)).toBe(true);
    expect(seen.filter((o) => o.chargeBoxId === 'CP-codes' && o.disposition === 'answered' && o.leg === 'upstream' && o.direction === 'out')).toHaveLength(5);
  });

  it('answers SteVe with a GenericError in place of a malformed or too deep answer, so its call never hangs', async () => {
    const { steve, gw } = await relayMode();
    const st = await station(gw.wsUrl('CP-malformed'), { autoAnswer: false });
    await st.call('Heartbeat', {}, 'mal-open');
    const answers = [
      (id: string) => `[3,"${id}"]`,
      (id: string) => `[3,"${id}","not an object"]`,
      (id: string) => `[4,"${id}","NotSupported"]`,
      (id: string) => `[4,"${id}",7,"d",{}]`,
      (id: string) => `[3,"${id}",{"configurationKey":${deepArray(1000)}}]`,
    ];
    const handled = new Set<unknown>();
    for (const bad of answers) {
      const pending = steve.call('CP-malformed', 'GetConfiguration', {}, 10_000);
      const call = await st.waitFor((f) => f[0] === 2 && !handled.has(f[1]), 10_000);
      handled.add(call[1]);
      st.sendRaw(bad(String(call[1])));
      const got = await pending;
      expect(got.slice(0, 3)).toEqual([4, call[1], 'GenericError']);
      expect(String(got[3])).toMatch(/malformed|deeper than/);
      expect(got[4]).toEqual({});
    }
    expect(steve.closes.filter((c) => c.chargeBoxId === 'CP-malformed')).toEqual([]);
    expect(gw.relay.stations().find((s) => s.chargeBoxId === 'CP-malformed')?.pendingCalls.toStation).toBe(0);
  });

  it("settles the gateway's own call with an error when the station's answer is malformed", async () => {
    const { gw } = await relayMode();
    const st = await station(gw.wsUrl('CP-own'), { autoAnswer: false });
    await st.call('Heartbeat', {}, 'own-open');
    const outcome = gw.relay.call('CP-own', 'GetConfiguration', {}, { timeoutMs: 20_000 });
    const call = await st.waitFor((f) => f[0] === 2, 10_000);
    st.sendRaw(`[3,"${String(call[1])}"]`);
    expect(await outcome).toMatchObject({ kind: 'error', code: 'GenericError' });
  });
});

/** A raw WebSocket upgrade, so the path reaches the gateway exactly as written (clients normalise dot segments). */
function rawUpgrade(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n\r\n',
    );
    // An accepted upgrade stays open: close it after the answer has had time to arrive.
    setTimeout(() => socket.end(), 1000);
  });
}

describe('chargeBoxIds that are path segments (issue 12, item 7)', () => {
  it('refuses ".", ".." and their encodings, and ids over 255 characters, at the handshake with 400 and a reason', async () => {
    const { steve, gw } = await relayMode();
    for (const id of ['.', '..', '%2e', '%2E', '%2e%2e', '.%2E', '%2E.']) {
      const res = await rawUpgrade(gw.port, `/ocpp/${id}`);
      expect(res.status, id).toBe(400);
      expect(res.body).toMatch(/path segment/);
    }
    const long = await rawUpgrade(gw.port, `/ocpp/${'L'.repeat(256)}`);
    expect(long.status).toBe(400);
    expect(long.body).toMatch(/longer than 255/);
    // Dots inside an id are fine, and so are 255 characters.
    expect((await rawUpgrade(gw.port, `/ocpp/${'L'.repeat(255)}`)).status).toBe(101);
    const ok = await rawUpgrade(gw.port, '/ocpp/CP.1');
    expect(ok.status).toBe(101);
    expect(steve.sockets.has('.')).toBe(false);
  });

  it('a backend URL with a trailing slash (/ocpp//ID, as MicroOcpp builds it) gets 400 saying how to set the URL', async () => {
    const { gw } = await relayMode();
    const res = await rawUpgrade(gw.port, '/ocpp//FC-1');
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/without a trailing slash/);
  });
});

describe('one station streaming bad frames (issue 12, item 5)', () => {
  it('costs a well-behaved station none of its answers', async () => {
    const { steve, gw } = await relayMode();
    const good = await station(gw.wsUrl('CP-good'));
    const noisy = await station(gw.wsUrl('CP-noisy'));
    await good.call('Heartbeat', {}, 'good-open');
    await noisy.call('Heartbeat', {}, 'noisy-open');
    const { frames } = deepBattery('n');
    const garbage = [
      ...frames,
      'x'.repeat(1024 * 1024),
      `[2,"${'k'.repeat(1000)}","Heartbeat",{}]`,
      '[4,"nobody","FormatViolation","",{}]',
    ];
    const valid = [
      `[2,"n-big","DataTransfer",{"vendorId":"x","data":"${'y'.repeat(1024 * 1024)}"}]`,
      `[2,"n-wide","DataTransfer",{"vendorId":"x","data":[${'[1],'.repeat(100_000)}1]}]`,
    ];
    const rounds = 8;
    let streaming = true;
    const stream = (async () => {
      for (let round = 0; round < rounds; round++) {
        for (const text of [...garbage, ...valid]) {
          noisy.sendRaw(text);
          // Keep the sender's own buffer bounded; the gateway still gets frames back to back.
          while (noisy.ws.bufferedAmount > 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 5));
        }
        await new Promise((r) => setImmediate(r));
      }
      // The last round's frames have all been processed once the call after them is answered.
      await noisy.call('Heartbeat', {}, 'noisy-done');
      streaming = false;
    })();
    const answers: unknown[][] = [];
    for (let i = 0; streaming || i < 20; i++) {
      const id = `g${i}`;
      good.sendRaw(JSON.stringify([2, id, 'Heartbeat', {}]));
      answers.push(await good.waitFor(isAnswerTo(id), 15_000));
    }
    await stream;
    expect(answers.every((a) => a[0] === 3)).toBe(true);
    const info = (id: string) => gw.relay.stations().find((s) => s.chargeBoxId === id);
    expect(info('CP-good')?.counters.timeouts).toBe(0);
    expect(info('CP-noisy')?.counters.refused).toBe(rounds * garbage.length);
    // Only valid frames reached SteVe; SteVe kept both sockets.
    const fromNoisy = steve.received.filter((f) => f.chargeBoxId === 'CP-noisy').map((f) => f.frame[1]);
    expect(new Set(fromNoisy)).toEqual(new Set(['noisy-open', 'n-big', 'n-wide', 'noisy-done']));
    expect(steve.closes).toEqual([]);
  }, 120_000);
});

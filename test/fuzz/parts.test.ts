// The fuzzer's parts: the frame judge, the seeded generator and the recording upstream must themselves be able to
// tell good from bad, or a passing fuzz run would prove nothing.
import { describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { CATEGORIES, createFrameGenerator, INHERITED_NAMES, type HostileFrame } from '../../scripts/fuzz/frames.js';
import { HostileStation } from '../../scripts/fuzz/hostile.js';
import { judgeFrame, MAX_UPSTREAM_DEPTH, nestingDepth } from '../../scripts/fuzz/ocpp-check.js';
import { createRng } from '../../scripts/fuzz/prng.js';
import { startRecordingUpstream, type RecordingUpstream } from '../../scripts/fuzz/upstream.js';
import { Violations } from '../../scripts/fuzz/violations.js';

describe('judgeFrame', () => {
  it('accepts well-formed 1.6J frames', () => {
    expect(judgeFrame('[2,"a","Heartbeat",{}]').ok).toBe(true);
    expect(judgeFrame('[3,"a",{"currentTime":"x"}]').ok).toBe(true);
    expect(judgeFrame('[4,"a","FormationViolation","",{}]').ok).toBe(true);
    expect(judgeFrame('[4,"a","OccurenceConstraintViolation","",{}]').ok).toBe(true);
  });

  it('names what SteVe would close the socket over', () => {
    const problem = (t: string): string => {
      const v = judgeFrame(t);
      return v.ok ? 'ok' : v.problem;
    };
    expect(problem('[4,"a","FormatViolation","",{}]')).toMatch(/"FormatViolation" is not an OCPP 1.6 code/);
    expect(problem('[4,"a","","",{}]')).toMatch(/is not an OCPP 1.6 code/);
    expect(problem('[4,"a","OccurrenceConstraintViolation","",{}]')).toMatch(/is not an OCPP 1.6 code/);
    expect(problem('[4,"a","GenericError","",null]')).toMatch(/details/);
    expect(problem('{}')).toBe('not an array');
    expect(problem('[2,"a","Heartbeat"')).toBe('not JSON');
    expect(problem(`[2,"${'x'.repeat(37)}","Heartbeat",{}]`)).toMatch(/message id/);
    expect(problem('[2,5,"Heartbeat",{}]')).toMatch(/message id/);
    expect(problem('[2,"a","Heartbeat",[]]')).toMatch(/payload/);
    expect(problem('[3,"a",{},1]')).toMatch(/3 elements/);
    const deep = `[2,"a","DataTransfer",{"d":${'['.repeat(MAX_UPSTREAM_DEPTH)}${']'.repeat(MAX_UPSTREAM_DEPTH)}}]`;
    expect(problem(deep)).toMatch(/nested \d+ deep/);
  });

  it('measures nesting without recursion, strings skipped', () => {
    expect(nestingDepth('[1,{"a":[2]}]')).toBe(3);
    expect(nestingDepth('["[[[[", {"k":"}}\\"[["}]')).toBe(2);
    expect(nestingDepth('['.repeat(200_000) + ']'.repeat(200_000))).toBe(200_000);
  });
});

describe('frame generator', () => {
  const draw = (seed: number, n: number): HostileFrame[] => {
    const gen = createFrameGenerator(createRng(seed), CATEGORIES);
    let id = 0;
    const out: HostileFrame[] = [];
    while (out.length < n) out.push(...gen.next({ nextId: () => `f${++id}`, maxFrameBytes: 65_536 }));
    return out;
  };

  it('repeats itself for the same seed and differs for another', () => {
    const text = (fs: HostileFrame[]): string[] => fs.map((f) => (typeof f.data === 'string' ? f.data : f.data.toString('hex')));
    expect(text(draw(42, 500))).toEqual(text(draw(42, 500)));
    expect(text(draw(43, 500))).not.toEqual(text(draw(42, 500)));
  });

  it('covers every category, with what the gateway owes for each frame', () => {
    const frames = draw(1, 3000);
    expect(new Set(frames.map((f) => f.category))).toEqual(new Set(CATEGORIES));
    for (const f of frames) expect(Buffer.byteLength(f.data)).toBeLessThanOrEqual(f.category === 'oversize' ? Number.POSITIVE_INFINITY : 65_536);
    expect(frames.filter((f) => f.category === 'oversize').every((f) => Buffer.byteLength(f.data) > 65_536 && f.closes === 1009)).toBe(true);
    expect(frames.filter((f) => f.category === 'binary').every((f) => f.binary === true && f.closes === 1003)).toBe(true);
    const inherited = frames.filter((f) => f.category === 'inherited-action');
    expect(inherited.every((f) => f.notImplemented === true && f.answerId !== undefined)).toBe(true);
    expect(new Set(inherited.map((f) => JSON.parse(f.data as string)[2] as string))).toEqual(new Set(INHERITED_NAMES));
    expect(frames.some((f) => f.category === 'deep-nesting' && typeof f.data === 'string' && nestingDepth(f.data) >= 5000)).toBe(true);
  });
});

interface OnUpstream {
  readonly upstream: RecordingUpstream;
  readonly v: Violations;
  readonly ws: WebSocket;
  /** Every frame the station received. */
  readonly inbox: unknown[][];
}

/** A recording upstream with one station socket on it as `chargeBoxId`, for the length of `run`. */
async function onUpstream(chargeBoxId: string, run: (on: OnUpstream) => Promise<void>): Promise<void> {
  const v = new Violations();
  const upstream = await startRecordingUpstream(v);
  try {
    const ws = new WebSocket(`${upstream.url}/${chargeBoxId}`, ['ocpp1.6']);
    const inbox: unknown[][] = [];
    ws.on('message', (d: Buffer) => inbox.push(JSON.parse(d.toString()) as unknown[]));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    await run({ upstream, v, ws, inbox });
    ws.close();
  } finally {
    await upstream.close();
  }
}

async function until(pred: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 25));
}

describe('recording upstream', () => {
  it('answers CALLs, and records a bad CALLERROR code, an unasked answer and a folded path as violations', async () => {
    await onUpstream('CP1', async ({ upstream, v, ws, inbox }) => {
      await until(() => inbox.some((f) => f[2] === 'GetConfiguration'));
      const getConfiguration = inbox.find((f) => f[2] === 'GetConfiguration') as unknown[];
      ws.send(JSON.stringify([4, getConfiguration[1], 'FormatViolation', '', {}]));
      ws.send('[3,"never-asked",{}]');
      ws.send('[2,"h1","Heartbeat",{}]');
      await until(() => inbox.some((f) => f[1] === 'h1'));
      expect(inbox.find((f) => f[1] === 'h1')?.[0]).toBe(3);
      const folded = new WebSocket(upstream.url.replace('/CentralSystemService', '/'), ['ocpp1.6']);
      await new Promise((resolve) => folded.once('close', resolve));
      await until(() => v.count() >= 3);
      expect(v.count('malformed-upstream')).toBe(2);
      expect(v.count('upstream-path')).toBe(1);
      expect(v.lines('').join('\n')).toMatch(/"FormatViolation" is not an OCPP 1.6 code/);
    });
  });
});

describe('recording upstream, large frames', () => {
  it('judges them apart: a small call is answered while a large one is judged, and a bad large frame is still a violation', async () => {
    await onUpstream('CP2', async ({ upstream, v, ws, inbox }) => {
      const big = 'ÿx'.repeat(200_000);
      ws.send(JSON.stringify([2, 'big-1', 'DataTransfer', { vendorId: 'V', data: big }]));
      ws.send('[2,"small-1","Heartbeat",{}]');
      ws.send(`[2,"big-2","DataTransfer",{"vendorId":"V","data":"${big}"`); // cut short: not JSON
      await until(() => inbox.filter((f) => f[0] === 3 && /^(big-1|small-1)$/.test(String(f[1]))).length === 2);
      expect(inbox.find((f) => f[1] === 'big-1')?.[2]).toEqual({ status: 'Accepted' });
      expect(inbox.find((f) => f[1] === 'small-1')?.[0]).toBe(3);
      await upstream.settled();
      expect(v.count('malformed-upstream')).toBe(1);
      expect(v.lines('').join('\n')).toMatch(/not JSON: \[2,"big-2","DataTransfer"/);
      expect(inbox.some((f) => f[1] === 'big-2')).toBe(false);
    });
  });
});

describe('hostile station', () => {
  it("names today's embedded-mode answers to inherited action names: an echo is wrong, silence is missing", async () => {
    // A stand-in gateway that answers like the embedded central system did before it used a Map: `constructor`
    // gets a CALLRESULT echoing the payload, `toString` nothing, a bad CALLERROR code goes out as is.
    const server = http.createServer();
    const wss = new WebSocketServer({ server, handleProtocols: () => 'ocpp1.6' });
    wss.on('connection', (ws) => {
      ws.on('message', (d: Buffer) => {
        const [, id, action, payload] = JSON.parse(d.toString()) as [number, string, string, unknown];
        if (action === 'BootNotification') ws.send(JSON.stringify([3, id, { status: 'Accepted' }]));
        else if (action === 'constructor') ws.send(JSON.stringify([3, id, payload]));
        else if (action === 'valueOf') ws.send(JSON.stringify([4, id, 'FormatViolation', '', {}]));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const v = new Violations();
    const station = new HostileStation({ url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ocpp`, chargeBoxId: 'H1', rng: createRng(1), violations: v, embedded: true });
    try {
      for (let i = 0; i < 200 && !station.sendable; i++) await new Promise((r) => setTimeout(r, 25));
      expect(station.sendable).toBe(true);
      for (const action of ['constructor', 'toString', 'valueOf']) {
        station.send({ category: 'inherited-action', data: `[2,"${action}-1","${action}",{}]`, answerId: `${action}-1`, notImplemented: true });
      }
      for (let i = 0; i < 200 && v.count() < 2; i++) await new Promise((r) => setTimeout(r, 25));
      expect(v.count('wrong-answer')).toBe(2);
      expect(v.lines('').join('\n')).toMatch(/CALLRESULT for an action the embedded central system does not implement/);
      expect(v.lines('').join('\n')).toMatch(/malformed CALLERROR from the gateway: \[4,"valueOf-1","FormatViolation"/);
      expect(station.unanswered().map((u) => u.id)).toEqual(['toString-1']);
    } finally {
      station.close();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

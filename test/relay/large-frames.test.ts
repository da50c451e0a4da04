// Large frames (issue 12): the link hands frames of LARGE_MESSAGE_BYTES and more to the relay as bytes. One that can
// never pass (an id too long to echo, an answer to no pending call) is refused from its head without being decoded
// or parsed; one that may pass reaches SteVe as the same text frame, and a large answer to a pending call still does.
// Those are decoded and parsed on the decoder's thread (src/relay/frame-decoder.ts), in each station's order.
import { afterEach, describe, expect, it } from 'vitest';
import type { FrameObservation } from '../../src/events/observations.js';
import { LARGE_MESSAGE_BYTES } from '../../src/links/link.js';
import { startGateway } from '../support/gateway.js';
import { connectStation } from '../support/station-client.js';
import { startSteveDouble } from '../support/steve-double.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Two UTF-8 bytes per "ÿ": the decoded string is two-byte, as in the fuzzer's huge strings. */
const big = 'ÿx'.repeat(LARGE_MESSAGE_BYTES);

async function relayMode() {
  const steve = await startSteveDouble({ getConfigurationOnConnect: false });
  cleanups.push(() => steve.close());
  const gw = await startGateway({ STEVE_WS_URL: steve.url });
  cleanups.push(() => gw.stop());
  const seen: FrameObservation[] = [];
  cleanups.push(gw.bus.on('frame', (f) => seen.push(f)));
  const st = await connectStation(gw.wsUrl('CP-big'), { autoAnswer: false });
  cleanups.push(() => st.close());
  return { steve, gw, st, seen };
}

describe('large frames from a station', () => {
  it('that may pass reach SteVe as the same text frame, calls and answers to pending calls alike', async () => {
    const { steve, st } = await relayMode();
    const payload = { vendorId: 'big', data: big };
    const answer = await st.call('DataTransfer', payload, 'big-call');
    expect(answer[0]).toBe(3);
    const got = await steve.waitFor((f) => f.frame[1] === 'big-call');
    expect(got.raw).toBe(JSON.stringify([2, 'big-call', 'DataTransfer', payload]));

    const steveCall = steve.call('CP-big', 'GetConfiguration', {});
    const call = await st.waitFor((f) => f[0] === 2 && f[2] === 'GetConfiguration');
    const text = JSON.stringify([3, call[1], { unknownKey: [big] }]);
    expect(Buffer.byteLength(text)).toBeGreaterThan(LARGE_MESSAGE_BYTES);
    st.sendRaw(text);
    expect(await steveCall).toEqual([3, call[1], { unknownKey: [big] }]);
  });

  it('that can never pass are refused from their head, recorded clipped, and the link goes on', async () => {
    const { steve, st, seen } = await relayMode();
    const tooLongId = `[2,"${big}","Heartbeat",{}]`;
    const strayAnswer = `[4,"nobody","GenericError",${JSON.stringify(big)},{}]`;
    // Not even JSON past the head: refused all the same, as parseFrame would (no answer is possible either way).
    const strayBroken = `[3,"nobody",{"data":"${big}"`;
    for (const text of [tooLongId, strayAnswer, strayBroken]) st.sendRaw(text);
    expect((await st.call('Heartbeat', {}, 'after-big'))[0]).toBe(3);
    expect(steve.received.map((f) => f.frame[1])).toEqual(['after-big']);
    expect(steve.closes).toEqual([]);
    const refused = seen.filter((o) => o.disposition === 'refused');
    expect(refused.map((o) => o.problem)).toEqual([
      `message id longer than 128 characters (a frame of ${Buffer.byteLength(tooLongId)} bytes, not read further)`,
      `answer to unknown message id nobody (a frame of ${Buffer.byteLength(strayAnswer)} bytes, not read further)`,
      `answer to unknown message id nobody (a frame of ${Buffer.byteLength(strayBroken)} bytes, not read further)`,
    ]);
    for (const o of refused) expect(o.raw).toMatch(/… \[\d+ bytes in all\]$/);
    expect(refused.map((o) => o.messageId)).toEqual([undefined, 'nobody', 'nobody']);
    // No answer to any of them: an id that long cannot be echoed, and nobody asked for the answers.
    expect(st.received.filter((f) => f[0] !== 3 || f[1] !== 'after-big')).toEqual([]);
  });

  it('nested past the limit are refused like any too-deep frame, read from their head when it shows the depth', async () => {
    const { steve, st, seen } = await relayMode();
    const deep = `${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    st.sendRaw(`[2,"deep-head","DataTransfer",{"vendorId":"x","data":${deep}}]`);
    // The depth only after 16 KiB of string: the head does not show it, the parse does.
    st.sendRaw(`[2,"deep-late","DataTransfer",{"vendorId":"${'v'.repeat(20_000)}","data":${deep}}]`);
    for (const id of ['deep-head', 'deep-late']) {
      const err = await st.waitFor((f) => f[0] === 4 && f[1] === id);
      expect(err[2]).toBe('FormationViolation');
      expect(String(err[3])).toMatch(/nested deeper than 64 levels/);
    }
    expect((await st.call('Heartbeat', {}, 'after-deep'))[0]).toBe(3);
    expect(steve.received.map((f) => f.frame[1])).toEqual(['after-deep']);
    const raws = seen.filter((o) => o.disposition === 'refused').map((o) => o.raw);
    expect(raws).toHaveLength(2);
    expect(raws[0]).toMatch(/… \[\d+ bytes in all\]$/);
    expect(raws[1]).toMatch(/… \[\d+ characters in all\]$/);
  });

  it('are decoded on the decoder\'s thread, and the station\'s frames still reach SteVe in the order sent', async () => {
    const { steve, gw, st, seen } = await relayMode();
    const bigCall = (id: string): string => JSON.stringify([2, id, 'DataTransfer', { vendorId: 'big', data: big }]);
    const small = (id: string): string => JSON.stringify([2, id, 'Heartbeat', {}]);
    const ids = ['big-1', 'small-2', 'small-3', 'big-4', 'small-5'];
    for (const id of ids) st.sendRaw(id.startsWith('big') ? bigCall(id) : small(id));
    for (const id of ids) await st.waitFor((f) => f[0] === 3 && f[1] === id);
    expect(steve.received.map((f) => f.frame[1])).toEqual(ids);
    expect(seen.filter((o) => o.leg === 'station' && o.direction === 'in').map((o) => o.messageId)).toEqual(ids);
    expect(gw.relay.decoder.stats).toMatchObject({ offThread: 2, inPlace: 0, inFlight: 0, inFlightBytes: 0 });
    const health = await gw.getJson<{ largeFrames: { offThread: number; inPlace: number } }>('/api/health');
    expect(health.largeFrames).toMatchObject({ offThread: 2, inPlace: 0 });
  });

  it('sent just before the station closes its link still reach SteVe', async () => {
    const { steve, gw, st } = await relayMode();
    st.sendRaw(JSON.stringify([2, 'last-words', 'DataTransfer', { vendorId: 'big', data: big }]));
    st.close();
    const got = await steve.waitFor((f) => f.frame[1] === 'last-words');
    expect(got.raw.length).toBeGreaterThan(LARGE_MESSAGE_BYTES);
    expect(steve.received.filter((f) => f.frame[1] === 'last-words')).toHaveLength(1);
    // The thread's late answer for a frame decoded in place at the close is let go.
    await expect.poll(() => gw.relay.decoder.stats.inFlight).toBe(0);
    expect(steve.received.filter((f) => f.frame[1] === 'last-words')).toHaveLength(1);
  });

  it('sent just before a new connection replaces the link still reach SteVe, before the new link\'s frames', async () => {
    const { steve, gw, st } = await relayMode();
    st.sendRaw(JSON.stringify([2, 'before-replace', 'DataTransfer', { vendorId: 'big', data: big }]));
    const next = await connectStation(gw.wsUrl('CP-big'), { autoAnswer: false });
    cleanups.push(() => next.close());
    await st.closed;
    expect((await next.call('Heartbeat', {}, 'after-replace'))[0]).toBe(3);
    const ids = steve.received.map((f) => f.frame[1]);
    expect(ids.filter((id) => id === 'before-replace')).toHaveLength(1);
    expect(ids.indexOf('before-replace')).toBeLessThan(ids.indexOf('after-replace'));
  });

  it('sent faster than the thread decodes them make the station wait (its link stops reading), and all pass in order', async () => {
    const { steve, gw, st } = await relayMode();
    const data = 'ÿx'.repeat(40_000);
    const ids = Array.from({ length: 40 }, (_, i) => `flood-${i}`);
    for (const id of ids) st.sendRaw(JSON.stringify([2, id, 'DataTransfer', { vendorId: 'big', data }]));
    for (const id of ids) await st.waitFor((f) => f[0] === 3 && f[1] === id);
    expect(steve.received.map((f) => f.frame[1])).toEqual(ids);
    const stats = gw.relay.decoder.stats;
    expect(stats.inboxPauses + stats.inboxFlushes).toBeGreaterThan(0);
    expect(stats.offThread + stats.inPlace).toBe(ids.length);
    expect((await st.call('Heartbeat', {}, 'after-flood'))[0]).toBe(3);
  });
});

describe('large frames that go to SteVe as their bytes', () => {
  const call = (id: string): string => JSON.stringify([2, id, 'DataTransfer', { vendorId: 'big', data: big }]);

  it('come back from the decoder\'s thread as their first part only: what the message log keeps, no payload', async () => {
    const { steve, gw, st, seen } = await relayMode();
    const text = call('head-1');
    expect((await st.call('DataTransfer', { vendorId: 'big', data: big }, 'head-1'))[0]).toBe(3);
    // SteVe got the station's frame as it was sent.
    expect((await steve.waitFor((f) => f.frame[1] === 'head-1')).raw).toBe(text);
    const obs = seen.find((o) => o.messageId === 'head-1' && o.leg === 'station' && o.direction === 'in');
    expect(obs?.disposition).toBe('forwarded');
    expect(obs?.rawBytes).toBe(Buffer.byteLength(text));
    expect(Buffer.byteLength(obs?.raw ?? '')).toBeLessThanOrEqual(64 * 1024);
    expect(text.startsWith(obs?.raw ?? 'x')).toBe(true);
    expect(obs?.frame).toMatchObject({ type: 2, id: 'head-1', action: 'DataTransfer' });
    expect(obs?.frame && 'payload' in obs.frame ? obs.frame.payload : 'none').toBeUndefined();
    expect(gw.relay.decoder.stats).toMatchObject({ heads: 1, headsRedone: 0, inPlace: 0 });
    type Page = { entries: { messageId?: string; leg: string; direction: string; raw: string; rawBytes?: number; payload?: unknown; findings: { rule: string }[] }[] };
    let entry: Page['entries'][number] | undefined;
    for (const deadline = Date.now() + 10_000; entry === undefined && Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      entry = (await gw.getJson<Page>('/api/messages?chargeBoxId=CP-big&limit=10')).entries.find((e) => e.messageId === 'head-1' && e.leg === 'station' && e.direction === 'in');
    }
    expect(entry).toMatchObject({ rawBytes: Buffer.byteLength(text) });
    expect(entry?.payload).toBeUndefined();
    expect(entry?.findings.map((f) => f.rule)).toEqual(['frame.too-large']);
    expect(text.startsWith(entry?.raw ?? 'x')).toBe(true);
  });

  it('in embedded mode reach the central system with their longest strings cut, which answers them as it would whole', async () => {
    const embedded = await startGateway({});
    cleanups.push(() => embedded.stop());
    const seenHere: FrameObservation[] = [];
    cleanups.push(embedded.bus.on('frame', (f) => seenHere.push(f)));
    const local = await connectStation(embedded.wsUrl('CP-big-local'));
    cleanups.push(() => local.close());
    expect(await local.call('DataTransfer', { vendorId: 'big', data: big }, 'local-1')).toEqual([3, 'local-1', { status: 'Accepted' }]);
    // An idTag far over its 20 characters gets what a tag of ordinary length gets (the default: any tag accepted).
    const authorized = await local.call('Authorize', { idTag: 'T'.repeat(100_000) }, 'local-2');
    expect(authorized).toEqual([3, 'local-2', (await local.call('Authorize', { idTag: 'T' }, 'local-3'))[2]]);
    const obs = seenHere.find((o) => o.messageId === 'local-1' && o.direction === 'in');
    expect(obs?.rawBytes).toBe(Buffer.byteLength(call('local-1')));
    expect(embedded.relay.decoder.stats).toMatchObject({ heads: 2, headsRedone: 0 });
  });

  it('are read whole where more than their bytes is needed: fault rules, a log that keeps them', async () => {
    // A fault rule sees the text of every frame.
    const { gw, st, seen } = await relayMode();
    const res = await fetch(`${gw.httpUrl}/api/stations/CP-big/faults`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...gw.authHeader() },
      body: JSON.stringify({ kind: 'delay', direction: 'toUpstream', actions: ['Heartbeat'], delay: { ms: 1 } }),
    });
    expect(res.status).toBe(201);
    expect((await st.call('DataTransfer', { vendorId: 'big', data: big }, 'whole-2'))[0]).toBe(3);
    expect(seen.find((o) => o.messageId === 'whole-2' && o.direction === 'in')).toMatchObject({ raw: call('whole-2') });
    expect(gw.relay.decoder.stats.heads).toBe(0);

    // A message log that keeps frames this large.
    const steve = await startSteveDouble({ getConfigurationOnConnect: false });
    cleanups.push(() => steve.close());
    const keeping = await startGateway({ STEVE_WS_URL: steve.url, MESSAGE_LOG_MAX_RAW_BYTES: String(1024 * 1024) });
    cleanups.push(() => keeping.stop());
    const seenKept: FrameObservation[] = [];
    cleanups.push(keeping.bus.on('frame', (f) => seenKept.push(f)));
    const kept = await connectStation(keeping.wsUrl('CP-big-kept'));
    cleanups.push(() => kept.close());
    expect((await kept.call('DataTransfer', { vendorId: 'big', data: big }, 'whole-3'))[0]).toBe(3);
    expect(seenKept.find((o) => o.messageId === 'whole-3' && o.direction === 'in')).toMatchObject({ raw: call('whole-3') });
    expect(keeping.relay.decoder.stats.heads).toBe(0);
  });
});

// An operator call larger than a serial board's announced `max` is refused before it is sent (413 over REST,
// `too_large` over Socket.IO), and the board stays linked; over a real pty with the C++ device stand-in.
import { afterEach, expect, it } from 'vitest';
import { ack, connect, operatorToken, SECRET } from '../push/support/harness.js';
import { answerGetConfiguration, startHarness, type Harness } from './support/harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

it('refuses an operator call above the board maximum with 413 / too_large; the board stays online and takes the next call', async () => {
  h = await startHarness([{ name: 'k', chargeBoxId: 'FC-SER-BIG', device: { max: 2048 } }], { JWT_SECRET: SECRET });
  const [{ device }] = h.boards as [Harness['boards'][number]];
  await device.waitFor((e) => e.ev === 'up');
  await answerGetConfiguration(device);
  const gw = h.gateway;
  const post = (payload: unknown) =>
    fetch(`${gw.httpUrl}/api/stations/FC-SER-BIG/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...gw.authHeader() },
      body: JSON.stringify({ action: 'DataTransfer', payload }),
    });

  const started = Date.now();
  const big = await post({ vendorId: 'fc', data: 'z'.repeat(4000) });
  expect(big.status).toBe(413);
  const body = (await big.json()) as { error: { code: string; message: string; limit: number; size: number } };
  expect(body.error).toMatchObject({ code: 'GW_ERR_CALL_TOO_LARGE', limit: 2048, message: expect.stringContaining('2048') as string });
  expect(body.error.size).toBeGreaterThan(4000);
  expect(Date.now() - started).toBeLessThan(5000); // refused at once, not after a timeout

  const s = await connect(gw.httpUrl, { token: operatorToken() });
  const refused = await ack(s, 'call', { chargeBoxId: 'FC-SER-BIG', action: 'DataTransfer', payload: { vendorId: 'fc', data: 'z'.repeat(4000) } });
  s.close();
  expect(refused).toMatchObject({ ok: false, error: { code: 'too_large', message: expect.stringContaining('2048') as string } });

  // Nothing reached the board, its link never dropped, and a call that fits goes through on the same link.
  expect(device.received().some((f) => f[2] === 'DataTransfer')).toBe(false);
  expect(h.links.some((l) => l.kind === 'disconnected')).toBe(false);
  expect(await h.metric('chargebridge_serial_dropped_messages_total', { reason: 'too-big' })).toBe(0);
  const small = post({ vendorId: 'fc', data: 'z'.repeat(1000) });
  const dt = await device.waitForCall('DataTransfer');
  device.command(`send ${JSON.stringify([3, dt.id, { status: 'Accepted' }])}`);
  const res = await small;
  expect(res.status).toBe(200);
  expect(await res.json()).toMatchObject({ outcome: { kind: 'result', payload: { status: 'Accepted' } } });
});

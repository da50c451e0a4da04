// The operator panel's one-line result text (ui/js/commands.js) in Node: each outcome kind the gateway answers
// with reads as what happened, never as "the station answered undefined".
import { beforeAll, expect, it } from 'vitest';

type Describe = (action: string, ack: unknown, ms: number) => { kind: string; text: string };
let describeCallResult: Describe;

beforeAll(async () => {
  const url = new URL('../../ui/js/commands.js', import.meta.url).href;
  ({ describeCallResult } = (await import(url)) as { describeCallResult: Describe });
});

it('a dropped link names the side that dropped it', () => {
  const station = describeCallResult('RemoteStopTransaction', { ok: true, outcome: { kind: 'disconnected', side: 'station', reason: 'bye' } }, 12);
  expect(station).toEqual({ kind: 'alert', text: 'RemoteStopTransaction: the station disconnected before answering (bye).' });
  const upstream = describeCallResult('RemoteStopTransaction', { ok: true, outcome: { kind: 'disconnected', side: 'upstream', reason: 'SteVe went away' } }, 12);
  expect(upstream.text).toBe('RemoteStopTransaction: the central system connection closed before the station answered (SteVe went away).');
  const gateway = describeCallResult('RemoteStartTransaction', { ok: true, outcome: { kind: 'disconnected', side: 'gateway', reason: 'gateway shutting down' } }, 12);
  expect(gateway.text).toBe('RemoteStartTransaction: the gateway closed the station link before it answered (gateway shutting down).');
});

it('a call too large for the station is refused before sending', () => {
  const r = describeCallResult('DataTransfer', { ok: false, error: { code: 'too_large', message: 'the call is 9000 bytes; board FC-1 accepts at most 4096' } }, 3);
  expect(r).toEqual({ kind: 'alert', text: 'DataTransfer not sent: the call is 9000 bytes; board FC-1 accepts at most 4096' });
});

it('timeouts, errors and answers keep their wording', () => {
  expect(describeCallResult('Reset', { ok: true, outcome: { kind: 'timeout' } }, 800).text).toBe('Reset: no answer from the station (timed out after 800 ms).');
  expect(describeCallResult('Reset', { ok: true, outcome: { kind: 'result', payload: { status: 'Accepted' }, rttMs: 5 } }, 9).kind).toBe('good');
});

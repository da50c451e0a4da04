// AuthorizationKeyWatch on its own: what it redacts, what it leaves alone, and when it hands a key over.
import { describe, expect, it } from 'vitest';
import type { FrameObservation } from '../../src/events/observations.js';
import { parseFrame } from '../../src/ocpp/frames.js';
import { AuthorizationKeyWatch, REDACTED, type AcceptedKey } from '../../src/relay/authorization-key.js';

const KEY = '0123456789abcdef0123456789abcdef';

function obs(raw: string, fields: Partial<FrameObservation>): FrameObservation {
  const parsed = parseFrame(raw);
  return {
    atUs: 0, chargeBoxId: 'CP1', linkKind: 'ws', leg: 'station', direction: 'in', origin: 'station', disposition: 'forwarded', raw,
    ...(parsed.ok ? { frame: parsed.frame, messageType: parsed.frame.type === 2 ? 'CALL' : parsed.frame.type === 3 ? 'CALLRESULT' : 'CALLERROR' } : {}),
    ...fields,
  } as FrameObservation;
}
const fromSteve = (raw: string): FrameObservation => obs(raw, { leg: 'upstream', origin: 'steve', action: 'ChangeConfiguration' });
const answer = (raw: string): FrameObservation => obs(raw, { action: 'ChangeConfiguration' });

function watch(): { w: AuthorizationKeyWatch; accepted: AcceptedKey[] } {
  const accepted: AcceptedKey[] = [];
  return { w: new AuthorizationKeyWatch({ holdMs: 60_000, maxPending: 4, onAccepted: (a) => accepted.push(a) }), accepted };
}

describe('AuthorizationKeyWatch', () => {
  it('redacts the key in ChangeConfiguration and learns it only from an Accepted answer of the same station and id', () => {
    const { w, accepted } = watch();
    const out = w.sanitize(fromSteve(JSON.stringify([2, 'c1', 'ChangeConfiguration', { key: 'AuthorizationKey', value: KEY }])));
    expect(out.raw).not.toContain(KEY);
    expect(out.raw).toContain(REDACTED);
    expect(JSON.stringify(out.frame)).not.toContain(KEY);
    w.sanitize({ ...answer(JSON.stringify([3, 'c1', { status: 'Accepted' }])), chargeBoxId: 'CP2' }); // another station
    w.sanitize(answer(JSON.stringify([3, 'other-id', { status: 'Accepted' }])));
    expect(accepted).toEqual([]);
    w.sanitize(answer(JSON.stringify([3, 'c1', { status: 'Accepted' }])));
    expect(accepted).toEqual([{ chargeBoxId: 'CP1', key: KEY, setBy: 'steve' }]);
    // Answered once: a repeat does nothing.
    w.sanitize(answer(JSON.stringify([3, 'c1', { status: 'Accepted' }])));
    expect(accepted).toHaveLength(1);
  });

  it('learns from an answer the relay no longer paired (it came after the call timeout)', () => {
    const { w, accepted } = watch();
    w.sanitize(fromSteve(JSON.stringify([2, 'late', 'ChangeConfiguration', { key: 'AuthorizationKey', value: KEY }])));
    w.sanitize(obs(JSON.stringify([3, 'late', { status: 'Accepted' }]), { disposition: 'refused', problem: 'answer to unknown message id late' }));
    expect(accepted).toEqual([{ chargeBoxId: 'CP1', key: KEY, setBy: 'steve' }]);
  });

  it('forgets the key on Rejected, NotSupported, RebootRequired or a CALLERROR', () => {
    const { w, accepted } = watch();
    const answers = [[3, 'a', { status: 'Rejected' }], [3, 'b', { status: 'NotSupported' }], [3, 'c', { status: 'RebootRequired' }], [4, 'd', 'InternalError', '', {}]] as const;
    for (const a of answers) {
      w.sanitize(fromSteve(JSON.stringify([2, a[1], 'ChangeConfiguration', { key: 'AuthorizationKey', value: KEY }])));
      w.sanitize(answer(JSON.stringify(a)));
      w.sanitize(answer(JSON.stringify([3, a[1], { status: 'Accepted' }])));
    }
    expect(accepted).toEqual([]);
  });

  it('the gateway\'s own call counts as set by the gateway; a key sent by the station is redacted, never learned', () => {
    const { w, accepted } = watch();
    w.sanitize(obs(JSON.stringify([2, 'cb-1', 'ChangeConfiguration', { key: 'authorizationkey', value: KEY }]), { direction: 'out', origin: 'gateway', disposition: 'own', action: 'ChangeConfiguration' }));
    w.sanitize(answer(JSON.stringify([3, 'cb-1', { status: 'Accepted' }])));
    const fromStation = w.sanitize(obs(JSON.stringify([2, 's1', 'ChangeConfiguration', { key: 'AuthorizationKey', value: 'abc-station-key' }]), { action: 'ChangeConfiguration' }));
    expect(fromStation.raw).not.toContain('abc-station-key');
    w.sanitize(obs(JSON.stringify([3, 's1', { status: 'Accepted' }]), { leg: 'upstream', origin: 'steve', action: 'ChangeConfiguration' }));
    expect(accepted).toEqual([{ chargeBoxId: 'CP1', key: KEY, setBy: 'gateway' }]);
  });

  it('redacts AuthorizationKey in GetConfiguration answers and in frames without an action, leaves everything else as it was', () => {
    const { w } = watch();
    const conf = JSON.stringify([3, 'g1', { configurationKey: [{ key: 'AuthorizationKey', readonly: false, value: KEY }, { key: 'HeartbeatInterval', readonly: false, value: '60' }] }]);
    const out = w.sanitize(obs(conf, { action: 'GetConfiguration' }));
    expect(out.raw).not.toContain(KEY);
    expect(out.raw).toContain('"HeartbeatInterval"');
    expect(JSON.stringify(out.frame)).not.toContain(KEY);
    const late = w.sanitize(obs(conf, { disposition: 'refused', problem: 'answer to unknown message id g1' }));
    expect(late.raw).not.toContain(KEY);
    expect(late.frame).toBeUndefined();
    const broken = w.sanitize(obs(`[2,"x","ChangeConfiguration",{"key":"AuthorizationKey","value":"${KEY}"}`, { disposition: 'refused' }));
    expect(broken.raw).not.toContain(KEY);
    // Untouched: the very same object comes back.
    for (const o of [
      obs(JSON.stringify([2, 'h', 'Heartbeat', {}]), { action: 'Heartbeat' }),
      fromSteve(JSON.stringify([2, 'c', 'ChangeConfiguration', { key: 'HeartbeatInterval', value: '60' }])),
      obs(JSON.stringify([3, 'g2', { configurationKey: [{ key: 'HeartbeatInterval', readonly: false, value: '60' }] }]), { action: 'GetConfiguration' }),
    ]) {
      expect(w.sanitize(o)).toBe(o);
    }
  });

  it('a key in a frame nested too deep: the relay refuses it (the station never sees it), its text goes whole, nothing is learned', () => {
    const { w, accepted } = watch();
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const raw = `[2,"d1","ChangeConfiguration",{"key":"AuthorizationKey","value":"${KEY}","x":${deep}}]`;
    expect(parseFrame(raw).ok).toBe(false); // refused before anything recurses over it
    const out = w.sanitize(fromSteve(raw));
    expect(out.raw).not.toContain(KEY);
    expect(out.frame).toBeUndefined();
    w.sanitize(answer(JSON.stringify([3, 'd1', { status: 'Accepted' }])));
    expect(accepted).toEqual([]);
  });

  it('holds at most maxPending unanswered keys, oldest forgotten first', () => {
    const { w, accepted } = watch();
    for (let i = 0; i < 6; i++) w.sanitize(fromSteve(JSON.stringify([2, `p${i}`, 'ChangeConfiguration', { key: 'AuthorizationKey', value: `${KEY}${i}` }])));
    for (let i = 0; i < 6; i++) w.sanitize(answer(JSON.stringify([3, `p${i}`, { status: 'Accepted' }])));
    expect(accepted.map((a) => a.key)).toEqual([`${KEY}2`, `${KEY}3`, `${KEY}4`, `${KEY}5`]);
  });
});

// Token expiry on a live socket: warned first, then disconnected; a fresh token reconnects. Shutdown says goodbye.
import { describe, expect, it } from 'vitest';
import { connect, once, startPushGateway, token } from './support/harness.js';

describe('token expiry', () => {
  it('warns before exp, says goodbye at exp, disconnects; a fresh token connects again', async () => {
    const pg = await startPushGateway({ PUSH_EXPIRY_WARNING_S: '1' });
    try {
      const exp = Math.floor(Date.now() / 1000) + 3;
      const s = await connect(pg.url, { token: token({ exp }, { noExp: true }) });
      const warned = once<{ expiresAt: string; inMs: number }>(s, 'tokenExpiring', 5000);
      const goodbye = once<{ reason: string }>(s, 'goodbye', 6000);
      const disconnected = once<string>(s, 'disconnect', 7000);
      const w = await warned;
      expect(Date.parse(w.expiresAt)).toBe(exp * 1000);
      expect(w.inMs).toBeLessThanOrEqual(1100);
      expect(s.connected).toBe(true);
      expect((await goodbye).reason).toBe('token_expired');
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
      expect(await disconnected).toBe('io server disconnect');
      expect(pg.push.stats().disconnects.tokenExpired).toBe(1);

      // The same (now expired) token is refused; a fresh one is accepted.
      await expect(connect(pg.url, { token: token({ exp }, { noExp: true }) })).rejects.toMatchObject({ data: { code: 'token_expired' } });
      const again = await connect(pg.url, { token: token() });
      expect(again.connected).toBe(true);
      again.close();
    } finally {
      await pg.close();
    }
  });

  it('the socket auth callback supplies a fresh token on every reconnect', async () => {
    const pg = await startPushGateway({ PUSH_EXPIRY_WARNING_S: '0' });
    try {
      const { io } = await import('socket.io-client');
      let issued = 0;
      const s = io(pg.url, {
        transports: ['websocket'],
        forceNew: true,
        reconnectionDelay: 50,
        // First token lives 2 s; later ones an hour.
        auth: (cb) => cb({ token: issued++ === 0 ? token({ exp: Math.floor(Date.now() / 1000) + 2 }, { noExp: true }) : token() }),
      });
      await once(s, 'connect');
      const goodbye = once(s, 'goodbye', 5000);
      const disconnected = once(s, 'disconnect', 5000);
      await goodbye;
      await disconnected;
      // After a server-side disconnect the client reconnects only when asked.
      s.connect();
      await once(s, 'connect', 5000);
      expect(issued).toBe(2);
      s.close();
    } finally {
      await pg.close();
    }
  });
});

describe('shutdown', () => {
  it('stop() says goodbye to every client and closes the transport, so clients retry on their own', async () => {
    const pg = await startPushGateway();
    const s = await connect(pg.url, { token: token() });
    const goodbye = once<{ reason: string }>(s, 'goodbye');
    const disconnected = once<string>(s, 'disconnect');
    await pg.push.stop();
    expect((await goodbye).reason).toBe('shutdown');
    // "transport close" (not "io server disconnect"): socket.io-client reconnects by itself when the gateway is back.
    expect(await disconnected).toBe('transport close');
    expect(s.active).toBe(true);
    s.close();
    await pg.gw.stop();
  });
});

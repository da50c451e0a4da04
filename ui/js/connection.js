// The Socket.IO session with the gateway: JWT handshake, the fleet feed (compact per-station entries, one
// message per tick) for the whole fleet, every event of the one followed station (subscribe-with-snapshot,
// resubscribed with `since` after any reconnect), operator calls with acks, the live frame stream, and the
// server's notices.
import { io } from '../vendor/socket.io.esm.min.js';
import { isAuthRefusal, refusalMessage } from './auth-messages.js';
import { readClaims } from './token-store.js';

const ACK_TIMEOUT_MS = 10_000;
/** The gateway answers a call with its own timeout outcome; this only guards against a silent gateway. */
const CALL_ACK_TIMEOUT_MS = 90_000;
/**
 * A dead link can stay "open" (a sleeping laptop, a NAT that forgot us, a frozen proxy). After PROBE_AFTER_MS of
 * silence the page sends an `alive` probe; if nothing at all is heard within PROBE_TIMEOUT_MS of it, the link is
 * dead: the transport is closed and socket.io-client redials (then resubscribes with `since`). Any packet counts
 * as heard. Dead is only ever declared after a probe went unanswered, so a background tab whose timers were
 * throttled does not mistake a quiet gateway for a dead one. Worst case about 8 s (the promise is 10 s; measured
 * 8.6 s with the former 2.5 s + 5 s on a loaded machine, too close: test/ui/liveness.test.ts).
 */
const WATCH_EVERY_MS = 1000;
const PROBE_AFTER_MS = 2000;
const PROBE_TIMEOUT_MS = 4000;

/**
 * handlers: onState({ state, message }), onFleet(entries, complete), onSubscribed(ack), onEvent(e), onSummary(s), onFrame(entry),
 * onFramesLost(info), onTokenExpiring(info), onSignedOut(message), onNotice(text, kind), onGap(gap),
 * onMetrics(sample), onTest(update)
 */
export function createConnection({ getToken, handlers }) {
  let frameFilter; // undefined: no frame stream
  /** The station whose every event the page takes (the one it shows); undefined: none. */
  let followed;
  /** Newest seq held of the followed station (its snapshot or events): the `since` of a resubscribe. */
  let followedSeq;
  let metricsOn = false;
  let testsOn = false;
  let retryTimer;
  /** Set when the token is no good any more: nothing reconnects until renew(). */
  let signedOut = false;

  const reconnect = () => {
    retryTimer = undefined;
    if (!signedOut) socket.connect();
  };
  const cancelRetry = () => {
    clearTimeout(retryTimer);
    retryTimer = undefined;
  };

  const socket = io({
    autoConnect: false,
    transports: ['websocket'],
    // Read at every (re)connect, so a renewed token is used without rebuilding the socket.
    auth: (cb) => cb({ token: getToken() ?? '' }),
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
  });

  const state = (s, message = '') => handlers.onState({ state: s, message });

  let heardAt = 0;
  /** When the unanswered probe went out; undefined when none is out. */
  let probeSentAt;
  const heard = () => {
    heardAt = Date.now();
    probeSentAt = undefined;
  };
  let declaredDead = false;
  setInterval(() => {
    if (!socket.connected) return;
    const now = Date.now();
    if (now - heardAt < PROBE_AFTER_MS) return;
    if (probeSentAt === undefined) {
      probeSentAt = now;
      socket.timeout(PROBE_TIMEOUT_MS).emit('alive', () => {});
      return;
    }
    if (now - probeSentAt >= PROBE_TIMEOUT_MS) {
      declaredDead = true;
      probeSentAt = undefined;
      // Closing the engine (not the socket) makes socket.io-client reconnect by itself.
      socket.io.engine?.close();
    }
  }, WATCH_EVERY_MS);

  /** The whole fleet (what the token allows) as compact entries: all of them in the ack, then what changed. */
  function subscribeFleet() {
    socket.timeout(ACK_TIMEOUT_MS).emit('fleet:subscribe', (err, ack) => {
      if (err) {
        handlers.onNotice('The gateway did not answer the fleet subscription; retrying.', 'warning');
        if (socket.connected) setTimeout(subscribeFleet, 1000);
        return;
      }
      if (!ack.ok) handlers.onNotice(`Fleet subscription refused: ${ack.error.message}`, 'alert');
      else handlers.onFleet(ack.stations, true);
    });
  }

  /** Every event of one station: a snapshot in the ack, or (after a reconnect) what was missed since `since`. */
  function subscribeStation(id, since) {
    const request = { chargeBoxIds: [id], ...(since !== undefined ? { since: { [id]: since } } : {}) };
    socket.timeout(ACK_TIMEOUT_MS).emit('subscribe', request, (err, ack) => {
      if (err) {
        handlers.onNotice('The gateway did not answer the subscription; retrying.', 'warning');
        if (socket.connected && followed === id) setTimeout(() => subscribeStation(id, since), 1000);
        return;
      }
      if (!ack.ok) {
        handlers.onNotice(`Subscription refused: ${ack.error.message}`, 'alert');
        return;
      }
      if (id === followed) for (const s of ack.stations) followedSeq = Math.max(followedSeq ?? 0, s.seq);
      handlers.onSubscribed(ack);
    });
  }

  function subscribe() {
    subscribeFleet();
    if (followed) subscribeStation(followed, followedSeq);
    if (frameFilter) sendFrameFilter('frames:subscribe');
    if (metricsOn) socket.emit('metrics:subscribe', () => {});
    if (testsOn) socket.emit('tests:subscribe', () => {});
  }

  /** After a `gap`: a fresh snapshot of the station (the ack is applied like any subscription, gap included). */
  function resync(gap) {
    socket.timeout(ACK_TIMEOUT_MS).emit('subscribe', { chargeBoxIds: [gap.chargeBoxId] }, (err, ack) => {
      if (err || !ack.ok) return;
      handlers.onSubscribed({ ...ack, replay: [...ack.replay, { chargeBoxId: gap.chargeBoxId, from: gap.from - 1, count: 0, gap: true }] });
    });
  }

  /** Resolves once the gateway confirmed (true) or did not (false): frames before that still follow the old filter. */
  function sendFrameFilter(event) {
    return new Promise((resolve) => {
      socket.timeout(ACK_TIMEOUT_MS).emit(event, frameFilter, (err, ack) => {
        if (err) handlers.onNotice('The gateway did not confirm the frame filter.', 'warning');
        else if (!ack.ok) handlers.onNotice(`Frame stream: ${ack.error.message}`, 'alert');
        resolve(!err && ack.ok);
      });
    });
  }

  socket.io.on('open', () => {
    heard();
    socket.io.engine.on('packet', heard);
  });

  socket.on('connect', () => {
    heard();
    cancelRetry();
    state('connected');
    subscribe();
  });

  socket.on('connect_error', (err) => {
    const code = err?.data?.code;
    if (isAuthRefusal(code) || !socket.active) {
      // A refusal by the auth middleware: retrying with the same token cannot help.
      signedOut = true;
      socket.disconnect();
      const message = refusalMessage(code, err?.data?.message ?? err?.message, readClaims(getToken())?.role);
      state('refused', message);
      handlers.onSignedOut(message, code);
      return;
    }
    state('reconnecting', `Gateway unreachable (${err.message}); retrying…`);
  });

  socket.on('disconnect', (reason) => {
    if (reason === 'io client disconnect') return;
    if (reason === 'io server disconnect') {
      // A refusal (expired token): goodbye said why. Slow-consumer and shutdown goodbyes close the transport
      // instead, and socket.io-client reconnects by itself.
      if (!signedOut && retryTimer === undefined) {
        state('reconnecting', 'Disconnected by the gateway; reconnecting…');
        retryTimer = setTimeout(reconnect, 1000);
      }
      return;
    }
    if (declaredDead) state('reconnecting', `No answer from the gateway for ${Math.round((PROBE_AFTER_MS + PROBE_TIMEOUT_MS) / 1000)} s (the connection went silent); reconnecting…`);
    else state('reconnecting', `Connection lost (${reason}); reconnecting…`);
    declaredDead = false;
  });

  socket.on('fleet', (update) => handlers.onFleet(update.stations, false));
  socket.on('event', (e) => {
    if (e.chargeBoxId === followed) followedSeq = Math.max(followedSeq ?? 0, e.seq);
    handlers.onEvent(e);
  });
  socket.on('summary', (s) => handlers.onSummary(s));
  // Events the gateway's history no longer held when this page could take them.
  socket.on('gap', (gap) => {
    handlers.onGap?.(gap);
    resync(gap);
  });
  socket.on('frame', (entry) => handlers.onFrame(entry));
  socket.on('frames:lost', (info) => handlers.onFramesLost(info));
  socket.on('metrics', (m) => handlers.onMetrics?.(m));
  socket.on('test', (u) => handlers.onTest?.(u));
  socket.on('tokenExpiring', (info) => handlers.onTokenExpiring(info));
  socket.on('goodbye', ({ reason, message }) => {
    if (reason === 'token_expired') {
      signedOut = true;
      state('refused', 'Token expired.');
      handlers.onSignedOut(refusalMessage('token_expired', undefined, readClaims(getToken())?.role), 'token_expired');
      return;
    }
    const wait = reason === 'shutdown' ? 2000 : 1000;
    state('reconnecting', reason === 'shutdown' ? 'The gateway is restarting; reconnecting…' : `Disconnected by the gateway: ${message}; reconnecting…`);
    cancelRetry();
    retryTimer = setTimeout(reconnect, wait);
  });

  return {
    start() {
      signedOut = false;
      heard();
      state('connecting', 'Connecting…');
      socket.connect();
    },

    stop() {
      signedOut = true;
      cancelRetry();
      socket.disconnect();
      state('offline');
    },

    /** After the token changed: a new handshake with it, then resubscribe with `since` (nothing missed). */
    renew() {
      signedOut = false;
      cancelRetry();
      socket.disconnect();
      state('connecting', 'Reconnecting with the new token…');
      socket.connect();
    },

    get connected() {
      return socket.connected;
    },

    /** Takes every event of station `id` from now on (and none of the one followed before); undefined: none. */
    follow(id) {
      if (id === followed) return;
      const previous = followed;
      followed = id;
      followedSeq = undefined;
      if (!socket.connected) return;
      if (previous) socket.emit('unsubscribe', { chargeBoxIds: [previous] }, () => {});
      if (id) subscribeStation(id);
    },

    follows(id) {
      return id !== undefined && id === followed;
    },

    /** Resolves to the gateway's ack: { ok: true, outcome } or { ok: false, error }. */
    call(chargeBoxId, action, payload) {
      return new Promise((resolve) => {
        if (!socket.connected) {
          resolve({ ok: false, error: { code: 'offline', message: 'not connected to the gateway' } });
          return;
        }
        socket.timeout(CALL_ACK_TIMEOUT_MS).emit('call', { chargeBoxId, action, payload }, (err, ack) => {
          resolve(err ? { ok: false, error: { code: 'ack_timeout', message: 'the gateway did not answer the call' } } : ack);
        });
      });
    },

    /** Asks for the station's events after `since` again (they arrive as ordinary events). */
    replay(chargeBoxId, since) {
      if (!socket.connected) return;
      socket.timeout(ACK_TIMEOUT_MS).emit('replay', { chargeBoxId, since }, (err, ack) => {
        if (!err && !ack.ok) handlers.onNotice(`History of ${chargeBoxId}: ${ack.error.message}`, 'warning');
      });
    },

    /** Operators: `metrics` every PUSH_METRICS_INTERVAL_MS while on (kept across reconnects). */
    setMetrics(on) {
      metricsOn = on;
      if (socket.connected) socket.emit(on ? 'metrics:subscribe' : 'metrics:unsubscribe', () => {});
    },

    /** Operators: `test` progress of every charger test run while on (kept across reconnects). */
    setTests(on) {
      testsOn = on;
      if (socket.connected) socket.emit(on ? 'tests:subscribe' : 'tests:unsubscribe', () => {});
    },

    /** filter: the FrameFilterRequest to apply, or undefined to stop the stream. */
    setFrameFilter(filter) {
      const wasOn = frameFilter !== undefined;
      frameFilter = filter;
      // Not connected: the filter goes with the next (re)subscription.
      if (!socket.connected) return Promise.resolve(false);
      if (filter === undefined) {
        if (wasOn) socket.emit('frames:unsubscribe', () => {});
        return Promise.resolve(true);
      }
      return sendFrameFilter(wasOn ? 'frames:filter' : 'frames:subscribe');
    },
  };
}

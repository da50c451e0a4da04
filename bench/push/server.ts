// The push server as the push benches run it: the real server on a real HTTP server on a free loopback port,
// fed by the given bus and event model, with an operator token for the clients. Operator calls and gateway
// metrics are stand-ins: no bench exercises them.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Bus } from '../../src/events/bus.js';
import type { EventModel } from '../../src/events/index.js';
import { parsePushConfig } from '../../src/push/config.js';
import { createPushServer, type PushHandle } from '../../src/push/index.js';

export interface BenchPush {
  readonly push: PushHandle;
  readonly url: string;
  readonly token: string;
  /** Sockets written per turn of the event loop (PUSH_FANOUT_SLICE, as the gateway reads it). */
  readonly fanOutSlice: number;
  /** PUSH_SUMMARY_INTERVAL_MS as the server reads it. */
  readonly summaryIntervalMs: number;
  stop(): Promise<void>;
}

export async function startBenchPush(opts: { bus: Bus; model: EventModel; dataDir: string; logger: Logger }): Promise<BenchPush> {
  const httpServer = http.createServer();
  const config = parsePushConfig(
    { JWT_SECRET: 'bench-secret-bench-secret-bench-secret-00', PUSH_FANOUT_SLICE: process.env.PUSH_FANOUT_SLICE },
    { dataDir: opts.dataDir, callTimeoutMs: 30_000 },
  );
  const push = createPushServer({
    config, httpServer, bus: opts.bus, state: opts.model.state, history: opts.model.history,
    calls: { call: async () => ({ kind: 'timeout' as const }) },
    metrics: () => ({ framesPerSecond: { in: 0, out: 0 }, relayRttMs: { p50: null, p95: null, p99: null }, links: {}, upstreams: {} }),
    logger: opts.logger,
  });
  push.start();
  await new Promise<void>((r) => httpServer.listen(0, '127.0.0.1', r));
  return {
    push,
    url: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`,
    token: push.issueToken({ sub: 'bench', role: 'operator', ttl: '1h' }),
    fanOutSlice: config.fanOutSlice,
    summaryIntervalMs: config.summaryIntervalMs,
    async stop() {
      await push.stop();
      httpServer.closeAllConnections();
      await new Promise((r) => httpServer.close(r));
    },
  };
}

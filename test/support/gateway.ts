// Starts a real gateway on a free port with a fresh data dir, for tests.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway, type GatewayOptions } from '../../src/gateway.js';

export interface TestGateway extends Gateway {
  wsUrl(id: string): string;
  readonly httpUrl: string;
  readonly dataDir: string;
  /** Authorization header with a fresh token signed by the gateway's own key. */
  authHeader(role?: 'operator' | 'viewer', chargers?: readonly string[]): { authorization: string };
  /** GET with an operator token; parses JSON. */
  getJson<T = unknown>(pathAndQuery: string): Promise<T>;
}

export async function startGateway(env: Record<string, string> = {}, options: GatewayOptions = {}): Promise<TestGateway> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'cb-gw-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SIM_STATIONS: '0', ...env, DATA_DIR: dataDir });
  const gateway = await createGateway(config, options);
  try {
    await gateway.start();
  } catch (err) {
    await gateway.stop();
    throw err;
  }
  const httpUrl = `http://127.0.0.1:${gateway.port}`;
  const authHeader = (role: 'operator' | 'viewer' = 'operator', chargers?: readonly string[]) => ({
    authorization: `Bearer ${gateway.push.issueToken({ sub: 'test', role, ttl: '1h', ...(chargers ? { chargers } : {}) })}`,
  });
  return Object.assign(gateway, {
    wsUrl: (id: string) => `ws://127.0.0.1:${gateway.port}/ocpp/${encodeURIComponent(id)}`,
    httpUrl,
    dataDir,
    authHeader,
    async getJson<T>(pathAndQuery: string): Promise<T> {
      const res = await fetch(`${httpUrl}${pathAndQuery}`, { headers: authHeader() });
      if (!res.ok) throw new Error(`GET ${pathAndQuery}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
  });
}

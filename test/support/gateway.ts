// Starts a real gateway on a free port with a fresh data dir, for tests.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';

export async function startGateway(env: Record<string, string> = {}): Promise<Gateway & { wsUrl: (id: string) => string; httpUrl: string; dataDir: string }> {
  const dataDir = env.DATA_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'cb-gw-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SIM_STATIONS: '0', ...env, DATA_DIR: dataDir });
  const gateway = await createGateway(config);
  try {
    await gateway.start();
  } catch (err) {
    await gateway.stop();
    throw err;
  }
  return Object.assign(gateway, {
    wsUrl: (id: string) => `ws://127.0.0.1:${gateway.port}/ocpp/${encodeURIComponent(id)}`,
    httpUrl: `http://127.0.0.1:${gateway.port}`,
    dataDir,
  });
}

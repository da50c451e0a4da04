// After the fuzz: the read APIs must still answer, for the stations that sent the worst frames too, in every
// export format, with the documented JSON on error (never Express's HTML page). Run again after a restart.
import type { GatewayProcess } from './gateway-process.js';
import { sample } from './ocpp-check.js';
import type { Violations } from './violations.js';

const PAGE = 100;

export async function checkReadApis(g: GatewayProcess, stations: readonly string[], v: Violations, when: string): Promise<number> {
  const json = ['/api/health', '/api/stations', '/api/transactions', `/api/events?limit=${PAGE}`, `/api/messages?limit=${PAGE}`];
  const exports: string[] = [];
  for (const id of stations) {
    const q = encodeURIComponent(id);
    json.push(`/api/messages?chargeBoxId=${q}&limit=${PAGE}`, `/api/events?chargeBoxId=${q}&limit=${PAGE}`);
    exports.push(`/api/messages?chargeBoxId=${q}&format=jsonl&limit=${PAGE}`, `/api/messages?chargeBoxId=${q}&format=csv&limit=${PAGE}`);
  }
  let checked = 0;
  for (const path of [...json, ...exports]) {
    const res = await g.get(path, 10_000);
    checked++;
    const bad = (why: string): void => v.add('read-api', `${when}: GET ${path} ${why}: ${res.status} ${res.type} ${sample(res.body, 120)}`);
    if (res.status !== 200) {
      bad('failed');
      continue;
    }
    if (path.includes('format=csv')) {
      if (!res.type.startsWith('text/csv')) bad('is not CSV');
    } else if (path.includes('format=jsonl')) {
      for (const line of res.body.split('\n')) {
        if (line === '') continue;
        try {
          JSON.parse(line);
        } catch {
          bad('has a line that is not JSON');
          break;
        }
      }
    } else {
      try {
        if (!res.type.startsWith('application/json')) throw new Error('type');
        JSON.parse(res.body);
      } catch {
        bad('is not JSON');
      }
    }
  }
  return checked;
}

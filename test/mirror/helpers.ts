// Shared by the mirror tests: cleanups run after each test, a mirror central system and a station that are
// closed by them, and polling until a condition holds.
import { afterEach } from 'vitest';
import { startMirrorCs, type MirrorCs } from '../support/mirror-cs.js';
import { connectStation, type StationClient } from '../support/station-client.js';

export const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

export async function mirrorCs(opts: Parameters<typeof startMirrorCs>[0] = {}): Promise<MirrorCs> {
  const m = await startMirrorCs(opts);
  cleanups.push(() => m.close());
  return m;
}

export async function station(url: string, opts?: Parameters<typeof connectStation>[1]): Promise<StationClient> {
  const st = await connectStation(url, opts);
  cleanups.push(() => st.close());
  return st;
}

export async function until<T>(read: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`condition not met: ${JSON.stringify(v).slice(0, 600)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

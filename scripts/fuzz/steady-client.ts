// The fuzzer's side of the well-behaved stations: forks steady.ts and drives its phases over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './children.js';
import type { Phase, SteadyReply, SteadyRequest } from './steady.js';

export type SteadyReport = Extract<SteadyReply, { kind: 'report' }>;

export interface SteadyStations {
  phase(phase: Phase): void;
  /** Stops sending, waits for the calls in flight, and returns what was measured. */
  stop(timeoutMs: number): Promise<SteadyReport>;
  kill(): void;
}

export async function startSteadyStations(opts: { url: string; stations: number; intervalMs: number; callTimeoutMs: number }): Promise<SteadyStations> {
  // The child inherits this process's execArgv, so it runs under tsx when the fuzzer does.
  const child = fork(fileURLToPath(new URL('./steady.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  track(child);
  const replies: SteadyReply[] = [];
  const waiters = new Set<() => void>();
  child.on('message', (m: SteadyReply) => {
    replies.push(m);
    for (const w of waiters) w();
  });
  const waitFor = <K extends SteadyReply['kind']>(kinds: K[], timeoutMs: number, what: string): Promise<Extract<SteadyReply, { kind: K }>> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = replies.find((r) => (kinds as string[]).includes(r.kind));
        if (!hit) return;
        cleanup();
        resolve(hit as Extract<SteadyReply, { kind: K }>);
      };
      // 'close', not 'exit': 'exit' can come before the last IPC message is read (the report of a long run is a
      // few hundred KB, sent just before the child disconnects), 'close' waits for the channel too.
      const onExit = (): void => {
        check();
        if (!waiters.has(check)) return; // the report was read after all
        cleanup();
        reject(new Error(`the steady stations' process exited before ${what}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`the steady stations did not report ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('close', onExit);
      };
      waiters.add(check);
      child.once('close', onExit);
      check();
    });
  const request = (m: SteadyRequest): void => void (child.connected && child.send(m));

  request({ kind: 'start', ...opts });
  const first = await waitFor(['started', 'failed'], 60_000, 'that they started').catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  if (first.kind === 'failed') {
    child.kill('SIGKILL');
    throw new Error(`well-behaved stations could not start: ${first.message}`);
  }
  return {
    phase: (phase) => request({ kind: 'phase', phase }),
    async stop(timeoutMs) {
      request({ kind: 'stop' });
      try {
        return await waitFor(['report'], timeoutMs, 'their figures');
      } finally {
        child.kill('SIGKILL');
      }
    },
    kill: () => void child.kill('SIGKILL'),
  };
}

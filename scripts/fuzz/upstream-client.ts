// The fuzzer's side of the recording upstream: forks upstream-process.ts, reads its URL, collects its findings.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { track } from './children.js';
import type { UpstreamReply, UpstreamRequest } from './upstream-process.js';

export type UpstreamReport = Extract<UpstreamReply, { kind: 'report' }>;

export interface UpstreamProcess {
  readonly url: string;
  /** CALLs from the upstream every `intervalMs` to each station whose chargeBoxId starts with `prefix`. */
  startCalls(intervalMs: number, prefix: string): void;
  report(timeoutMs?: number): Promise<UpstreamReport>;
  close(): void;
}

export async function startUpstreamProcess(): Promise<UpstreamProcess> {
  // Inherits this process's execArgv, so it runs under tsx when the fuzzer does.
  const child = fork(fileURLToPath(new URL('./upstream-process.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  track(child);
  const next = <K extends UpstreamReply['kind']>(kind: K, timeoutMs: number): Promise<Extract<UpstreamReply, { kind: K }>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`the upstream stand-in did not send "${kind}" within ${timeoutMs} ms`)), timeoutMs);
      const onMessage = (m: UpstreamReply): void => {
        if (m.kind === kind) done(undefined, m as Extract<UpstreamReply, { kind: K }>);
      };
      const onExit = (): void => done(new Error('the upstream stand-in exited'));
      const done = (err: Error | undefined, m?: Extract<UpstreamReply, { kind: K }>): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (err) reject(err);
        else resolve(m as Extract<UpstreamReply, { kind: K }>);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const request = (m: UpstreamRequest): void => void (child.connected && child.send(m));
  const listening = await next('listening', 60_000).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    url: listening.url,
    startCalls: (intervalMs, prefix) => request({ kind: 'startCalls', intervalMs, prefix }),
    report(timeoutMs = 30_000) {
      const answer = next('report', timeoutMs);
      request({ kind: 'report' });
      return answer;
    },
    close: () => void child.kill('SIGKILL'),
  };
}

// A pseudo-terminal pair from socat: `gateway` is the end the gateway opens as its serial port, `device` the
// end the board stand-in opens. stop() is an unplug: both ends vanish; start() again is the replug.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface PtyPair {
  readonly gateway: string;
  readonly device: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function ptyPair(dir: string, name: string): PtyPair {
  const gateway = path.join(dir, `${name}-gw`);
  const device = path.join(dir, `${name}-dev`);
  let proc: ChildProcess | undefined;
  return {
    gateway,
    device,
    async start() {
      proc = spawn('socat', [`pty,raw,echo=0,link=${gateway}`, `pty,raw,echo=0,link=${device}`], { stdio: 'ignore' });
      const deadline = Date.now() + 5000;
      while (!(existsSync(gateway) && existsSync(device))) {
        if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`socat did not create ${gateway} and ${device}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      const p = proc;
      proc = undefined;
      if (!p || p.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    },
  };
}

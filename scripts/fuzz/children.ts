// Every child process and temporary directory the fuzzer creates is registered here and removed when the fuzzer
// exits, however it exits: a fuzz run never leaves a gateway, a station process or a DATA_DIR behind.
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

const live = new Set<ChildProcess>();
const dirs = new Set<string>();

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

export function trackDir(dir: string): () => void {
  dirs.add(dir);
  return () => {
    dirs.delete(dir);
    rmSync(dir, { recursive: true, force: true });
  };
}

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Every child process the fuzzer starts is registered here and killed when the fuzzer exits, however it exits:
// a fuzz run never leaves a gateway or a station process behind.
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

// The last resort of a shutdown: a timer on a thread of its own. The main thread's own deadline (a setTimeout) fires
// only while its event loop turns; if that thread is ever stuck inside a synchronous call (a write to a terminal
// that stopped reading, a native module), this thread still ends the process, with SIGKILL as nothing else can
// end it from here. The thread starts when armed (never while the gateway runs) and costs nothing until then.
import { Worker } from 'node:worker_threads';

const CODE = `
const { parentPort } = require('node:worker_threads');
parentPort.once('message', (ms) => {
  setTimeout(() => process.kill(process.pid, 'SIGKILL'), ms);
});`;

/**
 * Kills the process (SIGKILL) `ms` from now unless it has exited by then. Call it when shutdown starts, while the
 * main thread still runs: the thread starts and gets its deadline at once, and needs nothing from the main thread.
 */
export function armExitWatchdog(ms: number): void {
  // No loader or profiler flags of the process (tsx, --cpu-prof): plain JavaScript that starts on its own, without
  // waiting for anything from the main thread (a loader's hooks do).
  const worker = new Worker(CODE, { eval: true, execArgv: [] });
  // It must not keep a finished process alive; its own timer keeps it running until the deadline.
  worker.unref();
  worker.postMessage(ms);
}

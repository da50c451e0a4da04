// A mirror central system as its own process (test/support/mirror-cs.ts): takes every frame, answers calls.
import { startMirrorCs } from '../../test/support/mirror-cs.js';

const mirror = await startMirrorCs();
// Keep memory flat over long runs: the benchmark does not inspect received frames.
setInterval(() => mirror.received.splice(0), 1000).unref();
process.stdout.write(`mirror-port ${mirror.port}\n`);

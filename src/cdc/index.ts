// Follow SteVe's database through its binlog and hand every change to the bus as a typed event.
import { BinlogReader, type CdcDeps, type CdcReader } from './reader.js';
import { ThreadedReader } from './threaded.js';

export type { CdcConfig } from './config.js';
export { parseCdcConfig } from './config.js';
export type { CdcDeps, CdcHealth, CdcReader } from './reader.js';
export type { CdcState } from './metrics.js';

/** In the calling thread, or with CDC_READER_THREAD=on in a thread of its own. */
export function createCdcReader(deps: CdcDeps): CdcReader {
  const thread = deps.config.thread;
  return thread ? new ThreadedReader(deps, thread.youngGenerationMb) : new BinlogReader(deps);
}

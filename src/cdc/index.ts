// Follow SteVe's database through its binlog and hand every change to the bus as a typed event.
import { BinlogReader, type CdcDeps, type CdcReader } from './reader.js';

export type { CdcConfig } from './config.js';
export { parseCdcConfig } from './config.js';
export type { CdcDeps, CdcHealth, CdcReader } from './reader.js';
export type { CdcState } from './metrics.js';

export function createCdcReader(deps: CdcDeps): CdcReader {
  return new BinlogReader(deps);
}

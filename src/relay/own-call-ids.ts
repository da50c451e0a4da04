// Message ids for the gateway's own calls that never repeat, not even across restarts or crashes: each start
// takes the next boot number from DATA_DIR/relay/boot (written before any id of that boot is handed out), and
// ids are `cb-<boot>-<n>`. A late answer in the message log then names exactly one call.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface OwnCallIds {
  next(): string;
}

/** OCPP-J message ids are at most 36 characters. */
export const MAX_MESSAGE_ID_LENGTH = 36;

export class PersistedOwnCallIds implements OwnCallIds {
  readonly boot: number;
  readonly #prefix: string;
  #seq = 0;

  constructor(dataDir: string) {
    const dir = path.join(dataDir, 'relay');
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'boot');
    let saved = 0;
    try {
      saved = Number.parseInt(readFileSync(file, 'utf8'), 10) || 0;
    } catch {
      // first start
    }
    this.boot = saved + 1;
    writeFileSync(`${file}.tmp`, String(this.boot));
    renameSync(`${file}.tmp`, file);
    this.#prefix = `cb-${this.boot}-`;
  }

  next(): string {
    // Even 10^9 boots and 2^53 calls give 29 characters.
    return `${this.#prefix}${++this.#seq}`;
  }
}

// Station passwords learned from key rotation (ChangeConfiguration AuthorizationKey accepted by the station).
// Kept only as scrypt hashes with a per-station salt in DATA_DIR/station-keys.json, written atomically.
// Checking a password costs one scrypt on the libuv pool, so checks are bounded (a few at a time, a short queue,
// then "busy") and the last good and last bad password per station are remembered as HMACs under a key that lives
// only in this process: a station reconnecting with the same password costs a hash, not a scrypt.
import { createHmac, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { GatewayError } from '../errors.js';

/** Who sent the ChangeConfiguration the station accepted. */
export type KeySetBy = 'steve' | 'gateway' | 'local-cs';

export type KeyCheck = 'ok' | 'mismatch' | 'busy';

interface StoredKey {
  readonly salt: string; // base64
  readonly hash: string; // base64
  readonly N: number;
  readonly r: number;
  readonly p: number;
  readonly learnedAt: string;
  readonly setBy: KeySetBy;
}

export interface StationKeysOptions {
  readonly dataDir: string;
  /** scrypt cost (default 2^14, 16 MiB per check). Lower only in tests of this module. */
  readonly cost?: number;
  /** scrypt checks allowed at once (default 2) and waiting (default 64); more get 'busy'. */
  readonly concurrency?: number;
  readonly queueLimit?: number;
}

export const STATION_KEYS_FILE = 'station-keys.json';
const KEY_LENGTH = 32;
const SET_BY: ReadonlySet<string> = new Set<KeySetBy>(['steve', 'gateway', 'local-cs']);

function scryptAsync(password: string, salt: Buffer, k: Pick<StoredKey, 'N' | 'r' | 'p'>): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, KEY_LENGTH, { N: k.N, r: k.r, p: k.p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function parseStored(id: string, raw: unknown): StoredKey {
  const v = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const ok =
    typeof v.salt === 'string' && typeof v.hash === 'string' && typeof v.learnedAt === 'string' &&
    typeof v.setBy === 'string' && SET_BY.has(v.setBy) &&
    [v.N, v.r, v.p].every((n) => typeof n === 'number' && Number.isInteger(n) && n > 0);
  if (!ok) throw new Error(`entry for station ${JSON.stringify(id)} is incomplete`);
  return v as unknown as StoredKey;
}

export class StationKeys {
  readonly #file: string;
  readonly #keys = new Map<string, StoredKey>();
  /** Learns in progress: checks for these stations wait for them. */
  readonly #learning = new Map<string, Promise<void>>();
  readonly #good = new Map<string, Buffer>();
  readonly #bad = new Map<string, Buffer>();
  readonly #mac = randomBytes(32);
  readonly #cost: number;
  readonly #concurrency: number;
  readonly #queueLimit: number;
  #running = 0;
  readonly #queue: (() => void)[] = [];
  #writes: Promise<void> = Promise.resolve();

  constructor(options: StationKeysOptions) {
    this.#file = path.join(options.dataDir, STATION_KEYS_FILE);
    this.#cost = options.cost ?? 16_384;
    this.#concurrency = options.concurrency ?? 2;
    this.#queueLimit = options.queueLimit ?? 64;
  }

  /** Reads the stored keys; throws GW_ERR_CONFIG naming the file and the fix when it is damaged. Call once at start. */
  load(): void {
    this.#keys.clear();
    this.#load();
  }

  /** True when the station has a learned key (or one is being learned): its CONFIG_FILE password no longer counts. */
  has(chargeBoxId: string): boolean {
    return this.#keys.has(chargeBoxId) || this.#learning.has(chargeBoxId);
  }

  setBy(chargeBoxId: string): KeySetBy | undefined {
    return this.#keys.get(chargeBoxId)?.setBy;
  }

  get size(): number {
    return this.#keys.size;
  }

  async check(chargeBoxId: string, password: string): Promise<KeyCheck> {
    // A learn that failed to reach the disk still set the key in memory (the learner logs the failure).
    await this.#learning.get(chargeBoxId)?.catch(() => undefined);
    const stored = this.#keys.get(chargeBoxId);
    if (!stored) return 'mismatch';
    const mac = this.#hmac(password);
    if (sameBytes(this.#good.get(chargeBoxId), mac)) return 'ok';
    if (sameBytes(this.#bad.get(chargeBoxId), mac)) return 'mismatch';
    if (!(await this.#slot())) return 'busy';
    let hash: Buffer;
    try {
      hash = await scryptAsync(password, Buffer.from(stored.salt, 'base64'), stored);
    } finally {
      this.#release();
    }
    // The key may have changed while we hashed: check against what is stored now.
    if (this.#keys.get(chargeBoxId) !== stored) return this.check(chargeBoxId, password);
    const ok = sameBytes(Buffer.from(stored.hash, 'base64'), hash);
    (ok ? this.#good : this.#bad).set(chargeBoxId, mac);
    return ok ? 'ok' : 'mismatch';
  }

  /** Hashes and stores a key the station accepted; resolves once it is on disk. */
  learn(chargeBoxId: string, key: string, setBy: KeySetBy): Promise<void> {
    const before = this.#learning.get(chargeBoxId) ?? Promise.resolve();
    const done = before.then(async () => {
      const salt = randomBytes(16);
      const params = { N: this.#cost, r: 8, p: 1 };
      const hash = await scryptAsync(key, salt, params);
      this.#keys.set(chargeBoxId, { salt: salt.toString('base64'), hash: hash.toString('base64'), ...params, learnedAt: new Date().toISOString(), setBy });
      this.#good.set(chargeBoxId, this.#hmac(key));
      this.#bad.delete(chargeBoxId);
      await this.#persist();
    });
    const tracked = done.finally(() => {
      if (this.#learning.get(chargeBoxId) === tracked) this.#learning.delete(chargeBoxId);
    });
    this.#learning.set(chargeBoxId, tracked);
    return tracked;
  }

  /** Waits for learns and writes in progress (shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.#learning.values()]);
    await this.#writes.catch(() => undefined);
  }

  #hmac(password: string): Buffer {
    return createHmac('sha256', this.#mac).update(password).digest();
  }

  #slot(): Promise<boolean> {
    if (this.#running < this.#concurrency) {
      this.#running++;
      return Promise.resolve(true);
    }
    if (this.#queue.length >= this.#queueLimit) return Promise.resolve(false);
    return new Promise((resolve) => this.#queue.push(() => resolve(true)));
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next) next(); // the slot passes on
    else this.#running--;
  }

  #load(): void {
    let text: string;
    try {
      text = readFileSync(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new GatewayError('GW_ERR_CONFIG', `${this.#file} cannot be read: ${(err as Error).message}`, { file: this.#file });
    }
    try {
      const parsed = JSON.parse(text) as { version?: unknown; stations?: unknown };
      if (parsed.version !== 1 || typeof parsed.stations !== 'object' || parsed.stations === null) throw new Error('expected { "version": 1, "stations": {...} }');
      for (const [id, value] of Object.entries(parsed.stations)) this.#keys.set(id, parseStored(id, value));
    } catch (err) {
      throw new GatewayError(
        'GW_ERR_CONFIG',
        `${this.#file} is not valid (${(err as Error).message}): restore it from a backup, or delete it so stations use their CONFIG_FILE password again`,
        { file: this.#file },
      );
    }
  }

  /** Write to a temporary file, fsync, rename over the old one: a crash leaves the old or the new file, never half. */
  #persist(): Promise<void> {
    const write = async (): Promise<void> => {
      const stations: Record<string, StoredKey> = {};
      for (const [id, key] of this.#keys) Object.defineProperty(stations, id, { value: key, enumerable: true });
      mkdirSync(path.dirname(this.#file), { recursive: true });
      const tmp = `${this.#file}.${process.pid}.tmp`;
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(`${JSON.stringify({ version: 1, stations }, null, 2)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      try {
        await rename(tmp, this.#file);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    };
    this.#writes = this.#writes.catch(() => undefined).then(write);
    return this.#writes;
  }
}

function sameBytes(a: Buffer | undefined, b: Buffer): boolean {
  return a !== undefined && a.length === b.length && timingSafeEqual(a, b);
}

// StationKeys: learned station passwords kept as scrypt hashes in DATA_DIR, reloaded at start, bounded checks.
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STATION_KEYS_FILE, StationKeys } from '../../src/links/station-keys.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'cb-stkeys-'));
function loaded(dir: string): StationKeys {
  const keys = new StationKeys({ dataDir: dir });
  keys.load();
  return keys;
}

describe('StationKeys', () => {
  it('stores only a salted hash (mode 0600), checks passwords, and reloads them', async () => {
    const dir = tmp();
    const keys = new StationKeys({ dataDir: dir });
    expect(keys.has('CP1')).toBe(false);
    const learning = keys.learn('CP1', 'secret-key-0123456789abcdef', 'steve');
    expect(keys.has('CP1')).toBe(true); // the old password stops counting at once
    await learning;
    await keys.learn('CP2', 'secret-key-0123456789abcdef', 'gateway');
    const file = path.join(dir, STATION_KEYS_FILE);
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('secret-key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(text) as { stations: Record<string, { salt: string; hash: string }> };
    // Same key, two stations: different salts, different hashes.
    expect(stored.stations.CP1!.salt).not.toBe(stored.stations.CP2!.salt);
    expect(stored.stations.CP1!.hash).not.toBe(stored.stations.CP2!.hash);

    const again = loaded(dir);
    expect(await again.check('CP1', 'secret-key-0123456789abcdef')).toBe('ok');
    expect(await again.check('CP1', 'secret-key-0123456789abcdeX')).toBe('mismatch');
    expect(await again.check('CP3', 'anything')).toBe('mismatch');
    expect(again.setBy('CP1')).toBe('steve');
    expect(again.setBy('CP2')).toBe('gateway');
  });

  it('a second rotation replaces the first key', async () => {
    const dir = tmp();
    const keys = new StationKeys({ dataDir: dir });
    void keys.learn('CP1', 'first-key-0123456789', 'steve');
    await keys.learn('CP1', 'second-key-0123456789', 'steve');
    expect(await keys.check('CP1', 'second-key-0123456789')).toBe('ok');
    expect(await keys.check('CP1', 'first-key-0123456789')).toBe('mismatch');
    expect(await loaded(dir).check('CP1', 'second-key-0123456789')).toBe('ok');
  });

  it('answers busy rather than queueing scrypt checks without bound', async () => {
    const dir = tmp();
    const setup = new StationKeys({ dataDir: dir });
    await setup.learn('CP1', 'the-right-key-0123456789', 'steve');
    const keys = new StationKeys({ dataDir: dir, concurrency: 1, queueLimit: 2 });
    keys.load();
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => keys.check('CP1', `wrong-${i}-0123456789`)));
    expect(results.filter((r) => r === 'busy').length).toBe(3);
    expect(results.filter((r) => r === 'mismatch').length).toBe(3);
    // A failed password tried again is answered from memory, without a scrypt slot.
    expect(await keys.check('CP1', 'wrong-5-0123456789')).toBe('mismatch');
  });

  it('a key that cannot be written holds in memory: learn rejects, the station is still checked against it', async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, STATION_KEYS_FILE)); // rename onto a directory fails
    const keys = new StationKeys({ dataDir: dir });
    await expect(keys.learn('CP1', 'unsaved-key-0123456789', 'steve')).rejects.toThrow();
    expect(await keys.check('CP1', 'unsaved-key-0123456789')).toBe('ok');
    expect(await keys.check('CP1', 'old-password')).toBe('mismatch');
  });

  it('refuses to start on a damaged file, naming it and the fix', () => {
    const dir = tmp();
    writeFileSync(path.join(dir, STATION_KEYS_FILE), '{"version":1,"stations":{"CP1":{"salt":"x"}}}');
    expect(() => loaded(dir)).toThrow(/station-keys\.json is not valid .*CP1.*delete it/);
    writeFileSync(path.join(dir, STATION_KEYS_FILE), 'not json');
    expect(() => loaded(dir)).toThrow(/is not valid/);
  });
});

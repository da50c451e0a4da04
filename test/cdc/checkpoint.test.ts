// The checkpoint store: newest valid record wins; a torn journal slot falls back to the other slot or checkpoint.json.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointStore } from '../../src/cdc/checkpoint.js';
import { tempDir } from './harness.js';

const cp = (n: number) => ({ gtid: `0-1-${n}`, file: 'binlog.000001', position: n * 100, updatedAt: 'now' });

describe('CheckpointStore', () => {
  it('returns nothing in an empty DATA_DIR, then the newest record across restarts', async () => {
    const dir = await tempDir();
    const a = new CheckpointStore(dir);
    expect(a.load()).toBeUndefined();
    a.save(cp(1), true);
    a.save(cp(2));
    a.save(cp(3));
    a.close();
    const b = new CheckpointStore(dir);
    expect(b.load()).toEqual(cp(3));
    b.save(cp(4));
    await b.flush();
    expect(JSON.parse(readFileSync(b.file, 'utf8'))).toMatchObject({ gtid: '0-1-4' });
  });

  it('a torn newest slot falls back to the previous one; torn slots and no file fall back to checkpoint.json', async () => {
    const dir = await tempDir();
    const a = new CheckpointStore(dir);
    a.save(cp(1), true);
    a.save(cp(2));
    a.save(cp(3)); // seq 3 → slot-1
    a.close();
    const slot1 = path.join(dir, 'cdc', 'slot-1');
    writeFileSync(slot1, readFileSync(slot1, 'utf8').replace('0-1-3', '0-1-9'));
    expect(new CheckpointStore(dir).load()).toEqual(cp(2));
    writeFileSync(path.join(dir, 'cdc', 'slot-0'), 'garbage');
    expect(new CheckpointStore(dir).load()).toEqual(cp(1));
  });

  it('reads slots written before the CRC-32 (a SHA-256 prefix), and takes the newer of an old and a new slot', async () => {
    const dir = await tempDir();
    mkdirSync(path.join(dir, 'cdc'), { recursive: true });
    const json = JSON.stringify({ seq: 7, checkpoint: cp(7) });
    const old = `${json}\n${createHash('sha256').update(json).digest('hex').slice(0, 32)}\n`;
    writeFileSync(path.join(dir, 'cdc', 'slot-1'), old.padEnd(1024, ' '));
    const a = new CheckpointStore(dir);
    expect(a.load()).toEqual(cp(7));
    a.save(cp(8)); // seq 8 → slot-0, in the new form
    a.close();
    expect(readFileSync(path.join(dir, 'cdc', 'slot-0'), 'utf8').split('\n')[1]).toMatch(/^[0-9a-f]{8}$/);
    expect(new CheckpointStore(dir).load()).toEqual(cp(8));
    // An old slot that does not match its hash is torn, as before.
    writeFileSync(path.join(dir, 'cdc', 'slot-1'), old.replace('0-1-7', '0-1-9').padEnd(1024, ' '));
    writeFileSync(path.join(dir, 'cdc', 'slot-0'), 'garbage');
    expect(new CheckpointStore(dir).load()).toBeUndefined();
  });

  it('a slot is all of one record: a shorter record after a longer one leaves none of the longer one behind', async () => {
    const dir = await tempDir();
    const a = new CheckpointStore(dir);
    const long = { gtid: `0-1-1,${Array.from({ length: 40 }, (_, i) => `${i + 2}-1-${i}`).join(',')}`, updatedAt: 'now' };
    a.save(long); // seq 1 → slot-1
    a.save(cp(2)); // seq 2 → slot-0
    a.save(cp(3)); // seq 3 → slot-1, over the long one
    a.close();
    const slot = readFileSync(path.join(dir, 'cdc', 'slot-1'), 'utf8');
    expect(slot.length).toBe(1024);
    expect(slot).not.toContain('40-1-38');
    expect(new CheckpointStore(dir).load()).toEqual(cp(3));
  });
});

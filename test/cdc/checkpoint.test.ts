// The checkpoint store: newest valid record wins; a torn journal slot falls back to the other slot or checkpoint.json.
import { readFileSync, writeFileSync } from 'node:fs';
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
});

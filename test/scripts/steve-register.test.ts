// npm run steve-register: the simulated stations and their tag become known to SteVe (both schema generations),
// by printed SQL or directly; an account without write rights changes nothing and is told what it lacks.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function register(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/steve-register.ts', ...args], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let db: PrivateMariadb;

beforeAll(async () => {
  db = await startMariadb({ binlog: false });
  for (const generation of ['3.12', '3.13'] as const) {
    await createSteveDatabase(db, { database: `steve${generation.replace('.', '')}`, generation, cdcUser: `cdc${generation.replace('.', '')}` });
  }
  await db.query("CREATE USER 'steve'@'%' IDENTIFIED BY 'steve-pw'; GRANT ALL ON *.* TO 'steve'@'%'");
}, 120_000);

afterAll(async () => {
  await db?.stop();
});

describe('npm run steve-register', () => {
  it.each(['3.12', '3.13'])('with --db inserts the stations and the tag into a SteVe %s schema, and a second run changes nothing', async (generation) => {
    const database = `steve${generation.replace('.', '')}`;
    // What SteVe does with an Authorize for a tag it has never seen: stores it blocked.
    await db.query(`INSERT INTO ${database}.ocpp_tag (id_tag, max_active_transaction_count) VALUES ('TEST_TAG', 0)`);
    const url = db.url('steve', 'steve-pw', database);
    for (let i = 0; i < 2; i++) {
      const out = await register(['--db', url], { SIM_STATIONS: '2' });
      expect(out.code).toBe(0);
      expect(out.stdout).toContain('registered in SteVe: stations SIM-001, SIM-002; tag TEST_TAG');
    }
    const boxes = await db.query<{ charge_box_id: string }[]>(`SELECT charge_box_id FROM ${database}.charge_box ORDER BY charge_box_id`);
    expect(boxes.map((b) => b.charge_box_id)).toEqual(['SIM-001', 'SIM-002']);
    const tags = await db.query<{ id_tag: string; max_active_transaction_count: number }[]>(`SELECT id_tag, max_active_transaction_count FROM ${database}.ocpp_tag`);
    expect(tags).toEqual([{ id_tag: 'TEST_TAG', max_active_transaction_count: 1 }]);
  });

  it('without --db prints SQL that SteVe\'s database accepts as it is', async () => {
    const out = await register(['--stations', "FC-1,O'Brien", '--tag', 'TAG-9']);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("VALUES ('O''Brien')");
    await db.query(`USE steve313; ${out.stdout}`);
    const boxes = await db.query<{ charge_box_id: string }[]>("SELECT charge_box_id FROM steve313.charge_box WHERE charge_box_id IN ('FC-1', 'O''Brien')");
    expect(boxes).toHaveLength(2);
    const tags = await db.query<unknown[]>("SELECT id_tag FROM steve313.ocpp_tag WHERE id_tag = 'TAG-9'");
    expect(tags).toHaveLength(1);
  });

  it('an account without write rights (the CDC one) changes nothing and is told what it needs', async () => {
    const out = await register(['--stations', 'RO-1', '--db', db.url('cdc312', 'cdc-secret', 'steve312')]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/refused the registration \(nothing was changed\)/);
    expect(out.stderr).toMatch(/INSERT and UPDATE on charge_box and ocpp_tag/);
    const boxes = await db.query<unknown[]>("SELECT 1 FROM steve312.charge_box WHERE charge_box_id = 'RO-1'");
    expect(boxes).toHaveLength(0);
  });

  it('bad usage exits 2 with the usage line', async () => {
    const out = await register(['--nope']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/usage: npm run steve-register/);
  });
});

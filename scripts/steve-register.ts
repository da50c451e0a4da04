// Registers the simulated stations and their tag in SteVe, which refuses unknown chargeBoxIds (HTTP 404) and
// answers unknown tags Invalid. Prints the SQL, or runs it when given a database URL with write rights:
//   npm run steve-register                                   (SQL for the stations the gateway would simulate)
//   npm run steve-register -- --stations CP1,CP2 --tag TAG1 --db mysql://steve:pw@127.0.0.1:3306/stevedb
// Station ids come from --stations, else from the same settings the gateway reads (SIM_STATIONS, SIM_ID_PREFIX,
// CONFIG_FILE simulator.stations). Exit code 0 on success, 1 when the database refused, 2 on bad usage.
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import { loadConfig } from '../src/config.js';
import { GatewayError } from '../src/errors.js';
import { parseSimConfig } from '../src/sim/config.js';
import { DEFAULT_ID_TAG } from '../src/sim/spec.js';

const USAGE = `usage: npm run steve-register -- [--stations ID,ID] [--tag TAG] [--db mysql://user:pw@host:3306/stevedb]
  without --db the SQL is printed; with it the rows are inserted (existing ones are left as they are,
  a tag SteVe stored as blocked after an unknown Authorize is unblocked).`;

interface Registration {
  readonly stations: readonly string[];
  readonly tags: readonly string[];
}

/** Both statements are idempotent and use only columns every SteVe generation (3.7 onwards) has. */
function statements(reg: Registration): { sql: string; params: string[] }[] {
  return [
    ...reg.stations.map((id) => ({ sql: 'INSERT IGNORE INTO charge_box (charge_box_id) VALUES (?)', params: [id] })),
    // SteVe stores a tag it has never seen as blocked (max_active_transaction_count = 0): undo exactly that.
    ...reg.tags.map((tag) => ({
      sql: 'INSERT INTO ocpp_tag (id_tag, max_active_transaction_count) VALUES (?, 1) ON DUPLICATE KEY UPDATE max_active_transaction_count = GREATEST(max_active_transaction_count, 1)',
      params: [tag],
    })),
  ];
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function registrationFrom(values: { stations?: string | undefined; tag?: string | undefined }): Registration {
  if (values.stations !== undefined) {
    const stations = values.stations.split(',').map((s) => s.trim()).filter((s) => s !== '');
    return { stations, tags: [values.tag ?? DEFAULT_ID_TAG] };
  }
  const config = loadConfig();
  // Simulated stations are generated in front of a real SteVe only when SIM_STATIONS says so; here, ask for them.
  const sim = parseSimConfig({ SIM_STATIONS: '3', ...config.env }, config.file);
  const tags = new Set(sim.stations.map((s) => s.idTag ?? DEFAULT_ID_TAG));
  if (values.tag !== undefined) tags.add(values.tag);
  return { stations: sim.stations.map((s) => s.id), tags: [...tags] };
}

async function main(): Promise<number> {
  let values: { stations?: string | undefined; tag?: string | undefined; db?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      options: { stations: { type: 'string' }, tag: { type: 'string' }, db: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let reg: Registration;
  try {
    reg = registrationFrom(values);
  } catch (err) {
    if (!(err instanceof GatewayError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  if (reg.stations.length === 0) {
    process.stderr.write(`no stations to register: pass --stations or set SIM_STATIONS\n${USAGE}\n`);
    return 2;
  }
  const plan = statements(reg);
  if (values.db === undefined) {
    process.stdout.write(`-- Run in SteVe's database (e.g. mysql stevedb < this file), or pass --db to let this script do it.\n`);
    for (const s of plan) {
      let i = 0;
      process.stdout.write(`${s.sql.replace(/\?/g, () => quote(s.params[i++] ?? ''))};\n`);
    }
    return 0;
  }
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection({ uri: values.db, connectTimeout: 10_000 });
  } catch (err) {
    process.stderr.write(`cannot connect to ${new URL(values.db).host}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    await conn.beginTransaction();
    for (const s of plan) await conn.query(s.sql, s.params);
    await conn.commit();
  } catch (err) {
    await conn.rollback().catch(() => undefined);
    process.stderr.write(`SteVe's database refused the registration (nothing was changed): ${(err as Error).message}\n` +
      'The account needs INSERT and UPDATE on charge_box and ocpp_tag (SteVe\'s own account has them; the CDC account does not).\n');
    return 1;
  } finally {
    await conn.end().catch(() => undefined);
  }
  process.stdout.write(`registered in SteVe: stations ${reg.stations.join(', ')}; tag${reg.tags.length > 1 ? 's' : ''} ${reg.tags.join(', ')}\n`);
  return 0;
}

process.exitCode = await main();

// A private mariadbd per test file: temporary datadir, free port, binlog on (ROW, FULL image, FULL metadata),
// server-id 1, UTC. Never touches the machine's shared server (--no-defaults, own socket and port).
// Options start it misconfigured for start-up-check tests; kill9()/restart() simulate crashes.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';

const run = promisify(execFile);

export interface MariadbOptions {
  /** false: no --log-bin at all. */
  readonly binlog?: boolean;
  readonly binlogFormat?: 'ROW' | 'STATEMENT' | 'MIXED';
  readonly rowImage?: 'FULL' | 'MINIMAL' | 'NOBLOB';
  readonly rowMetadata?: 'FULL' | 'MINIMAL' | 'NO_LOG';
  readonly timeZone?: string;
  readonly extraArgs?: readonly string[];
}

export interface PrivateMariadb {
  readonly port: number;
  readonly socket: string;
  readonly dir: string;
  /** mysql://user:password@127.0.0.1:port/database */
  url(user: string, password: string, database: string): string;
  /** As root over the socket; several statements allowed. */
  query<T = unknown>(sql: string, params?: unknown[]): Promise<T>;
  /** A fresh root connection (caller ends it), e.g. to run statements in an explicit transaction. */
  connect(database?: string): Promise<mysql.Connection>;
  kill9(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startMariadb(opts: MariadbOptions = {}): Promise<PrivateMariadb> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cb-mariadb-'));
  const datadir = path.join(dir, 'data');
  const socket = path.join(dir, 'mysqld.sock');
  await run('mariadb-install-db', ['--no-defaults', '--user=root', `--datadir=${datadir}`, '--auth-root-authentication-method=normal', '--skip-test-db'], {
    timeout: 60_000,
  });
  const port = await freePort();
  const args = [
    '--no-defaults',
    '--user=root',
    `--datadir=${datadir}`,
    `--socket=${socket}`,
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    '--skip-name-resolve',
    `--log-error=${path.join(dir, 'error.log')}`,
    `--pid-file=${path.join(dir, 'mysqld.pid')}`,
    '--innodb-buffer-pool-size=64M',
    '--innodb-log-file-size=48M',
    '--innodb-flush-log-at-trx-commit=2',
    `--default-time-zone=${opts.timeZone ?? '+00:00'}`,
    '--server-id=1',
    ...(opts.binlog === false
      ? []
      : [
          `--log-bin=${path.join(datadir, 'binlog')}`,
          `--binlog-format=${opts.binlogFormat ?? 'ROW'}`,
          `--binlog-row-image=${opts.rowImage ?? 'FULL'}`,
          `--binlog-row-metadata=${opts.rowMetadata ?? 'FULL'}`,
        ]),
    ...(opts.extraArgs ?? []),
  ];

  let child: ChildProcess | undefined;
  let conn: mysql.Connection | undefined;

  const connect = (database?: string): Promise<mysql.Connection> =>
    mysql.createConnection({ socketPath: socket, user: 'root', multipleStatements: true, dateStrings: true, ...(database ? { database } : {}) });

  async function launch(): Promise<void> {
    const p = spawn('mariadbd', args, { stdio: 'ignore' });
    child = p;
    live.add(p);
    let exited = false;
    p.once('exit', () => {
      exited = true;
      live.delete(p);
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) {
        const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
        throw new Error(`mariadbd exited during start-up:\n${log.split('\n').slice(-15).join('\n')}`);
      }
      try {
        const c = await connect();
        await c.query('SELECT 1');
        await c.end();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error('mariadbd did not accept connections within 30 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async function waitExit(p: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  }

  async function dropConn(): Promise<void> {
    const c = conn;
    conn = undefined;
    if (c) c.destroy();
  }

  await launch();

  return {
    port,
    socket,
    dir,
    url: (user, password, database) => `mysql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    async query<T>(sql: string, params?: unknown[]): Promise<T> {
      conn ??= await connect();
      try {
        const [rows] = await conn.query(sql, params);
        return rows as T;
      } catch (err) {
        if ((err as { fatal?: boolean }).fatal) await dropConn();
        throw err;
      }
    },
    connect,
    async kill9() {
      await dropConn();
      await waitExit(child, 'SIGKILL');
    },
    async restart() {
      await dropConn();
      await waitExit(child, 'SIGTERM');
      await launch();
    },
    async stop() {
      await dropConn();
      await waitExit(child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Create a database with one of SteVe's schema generations (sql/steve-schema-*.sql) and a CDC account. */
export async function createSteveDatabase(
  db: PrivateMariadb,
  opts: { database: string; generation: '3.12' | '3.13'; dataTransfer?: boolean; cdcUser?: string; cdcPassword?: string },
): Promise<string> {
  const root = path.resolve(import.meta.dirname, '../../sql');
  const schema = await readFile(path.join(root, `steve-schema-${opts.generation}.sql`), 'utf8');
  await db.query(`CREATE DATABASE \`${opts.database}\` CHARACTER SET utf8mb3 COLLATE utf8mb3_unicode_ci`);
  const c = await db.connect(opts.database);
  try {
    await c.query(schema);
    if (opts.dataTransfer) await c.query(await readFile(path.join(root, 'flashcharge-data-transfer.sql'), 'utf8'));
  } finally {
    await c.end();
  }
  const user = opts.cdcUser ?? 'cdc';
  const password = opts.cdcPassword ?? 'cdc-secret';
  await db.query(`CREATE USER IF NOT EXISTS '${user}'@'%' IDENTIFIED BY '${password}'`);
  await db.query(`GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '${user}'@'%'`);
  await db.query(`GRANT SELECT ON \`${opts.database}\`.* TO '${user}'@'%'`);
  return db.url(user, password, opts.database);
}

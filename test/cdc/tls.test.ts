// The binlog reader over TLS: a MariaDB that refuses plain TCP (require_secure_transport, as set up for SteVe 3.7's
// useSSL=true) is read with CDC_TLS=required or verify; without it, start-up stops naming the variable to set.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { createSteveDatabase, startMariadb, type PrivateMariadb } from '../support/mariadb.js';
import { makeReader, tempDir, type ReaderRig } from './harness.js';
import { SteveWriter } from './steve-writes.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'cb-cdc-tls-'));
const file = (name: string): string => path.join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated second CA. */
function makeCertificates(): void {
  for (const ca of ['ca', 'other-ca']) {
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${ca}`, '-keyout', file(`${ca}.key`), '-out', file(`${ca}.pem`));
  }
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', file('server.key'), '-out', file('server.csr'));
  writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'), '-CAcreateserial', '-days', '2', '-extfile', file('san.ext'), '-out', file('server.pem'));
}

let db: PrivateMariadb;
let url: string;

beforeAll(async () => {
  makeCertificates();
  db = await startMariadb({
    extraArgs: [`--ssl-ca=${file('ca.pem')}`, `--ssl-cert=${file('server.pem')}`, `--ssl-key=${file('server.key')}`, '--require-secure-transport=ON'],
  });
  url = await createSteveDatabase(db, { database: 'stevedb', generation: '3.12' });
}, 120_000);

afterAll(async () => {
  await db?.stop();
});

async function startError(env: Record<string, string>): Promise<GatewayError> {
  const rig = makeReader(url, await tempDir(), env);
  try {
    await rig.reader.start();
  } catch (err) {
    return err as GatewayError;
  }
  const state = rig.reader.health();
  await rig.reader.stop();
  throw new Error(`start() succeeded: ${state.state} ${JSON.stringify(rig.logs.filter((l) => l.level === 40))}`);
}

async function streamsOneStatus(env: Record<string, string>, station: string): Promise<void> {
  const rig: ReaderRig = makeReader(url, await tempDir(), env);
  await rig.reader.start();
  const writer = await SteveWriter.open(db, 'stevedb', '3.12');
  try {
    await writer.addStation(station);
    await writer.statusNotification(station, 1, 'Preparing', 'NoError', { timestamp: new Date() });
    await rig.waitFor((events) => events.some((e) => e.type === 'status' && e.chargeBoxId === station), 20_000);
    expect(rig.reader.health().state).toBe('streaming');
  } finally {
    await writer.close();
    await rig.reader.stop();
  }
}

describe('binlog reader and a server that requires TLS', () => {
  it('plain TCP is refused by the server: start-up stops and names CDC_TLS', async () => {
    const err = await startError({});
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.code).toBe('GW_ERR_CONFIG');
    expect(err.message).toMatch(/server requires TLS/);
    expect(err.message).toMatch(/CDC_TLS=required/);
  });

  it('CDC_TLS=required: encrypted, self-signed certificate accepted, rows stream', async () => {
    await streamsOneStatus({ CDC_TLS: 'required' }, 'CP-TLS-1');
  });

  // Before any verified connection: mysql2 resumes TLS sessions per host and port without re-checking the chain.
  it('CDC_TLS=verify with a CA that did not sign the certificate: start-up stops and says so', async () => {
    const err = await startError({ CDC_TLS: 'verify', CDC_TLS_CA_FILE: file('other-ca.pem') });
    expect(err.code).toBe('GW_ERR_CONFIG');
    expect(err.message).toMatch(/certificate/);
    expect(err.message).toMatch(/CDC_TLS_CA_FILE/);
  });

  it('CDC_TLS=verify with the right CA: rows stream', async () => {
    await streamsOneStatus({ CDC_TLS: 'verify', CDC_TLS_CA_FILE: file('ca.pem') }, 'CP-TLS-2');
  });

  it('bad settings are refused before connecting', () => {
    expect(() => makeReader(url, dir, { CDC_TLS: 'yes' })).toThrow(/CDC_TLS="yes" is invalid: expected one of off, required, verify/);
    expect(() => makeReader(url, dir, { CDC_TLS_CA_FILE: file('ca.pem') })).toThrow(/CDC_TLS is off/);
    expect(() => makeReader(url, dir, { CDC_TLS: 'verify', CDC_TLS_CA_FILE: file('missing.pem') })).toThrow(/cannot be read/);
  });
});

// `npm run token` (scripts/token.ts) as a real process, and the embedded secret it shares with the gateway.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parsePushConfig } from '../../src/push/config.js';
import { startGateway } from '../support/gateway.js';
import { connect } from './support/harness.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

async function tokenCli(args: string[], env: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe('token script with no key configured (embedded secret)', () => {
  it('the gateway generates a 0600 secret in DATA_DIR, logs where it is (not the secret), and accepts what the script signs', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const gw = await startGateway({}, { logger });
    const push = gw.push;
    try {
      const file = path.join(gw.dataDir, 'jwt-secret');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const secret = readFileSync(file, 'utf8').trim();
      expect(secret.length).toBeGreaterThanOrEqual(40);
      expect(lines.join('')).toContain(file);
      expect(lines.join('')).not.toContain(secret);

      const out = await tokenCli(['--role', 'viewer', '--chargers', 'CP1,CP2', '--ttl', '2h', '--sub', 'alice'], { DATA_DIR: gw.dataDir });
      expect(out.code).toBe(0);
      const t = out.stdout.trim();
      expect(t.split('.')).toHaveLength(3);
      const v = push.verifyToken(t);
      expect(v.ok).toBe(true);
      if (v.ok) {
        expect(v.principal).toMatchObject({ sub: 'alice', role: 'viewer' });
        expect(v.principal.chargers !== 'all' && [...v.principal.chargers]).toEqual(['CP1', 'CP2']);
        expect(Math.round((v.principal.expiresAt - Date.now()) / 60_000)).toBe(120);
      }
      const s = await connect(`http://127.0.0.1:${gw.port}`, { token: t });
      s.close();
    } finally {
      await gw.stop();
    }
  });

  it('creates the secret itself when the gateway has not run yet; the gateway then uses the same file', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-token-'));
    const out = await tokenCli(['--role', 'operator'], { DATA_DIR: dataDir });
    expect(out.code).toBe(0);
    expect(out.stderr).toContain('jwt-secret');
    const keys = (await import('../../src/push/keys.js')).loadTokenKeys(parsePushConfig({}, { dataDir, callTimeoutMs: 1000 }).key);
    expect(keys.created).toBe(false);
    const { createTokenVerifier } = await import('../../src/push/jwt.js');
    expect(createTokenVerifier(keys)(out.stdout.trim())).toMatchObject({ ok: true, principal: { role: 'operator' } });
  });

  it('refuses bad arguments with a usage line', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'cb-token-'));
    for (const args of [['--role', 'admin'], ['--role', 'viewer'], ['--role', 'operator', '--ttl', 'forever'], ['--nope']]) {
      const out = await tokenCli(args, { DATA_DIR: dataDir });
      expect(out.code, args.join(' ')).toBe(2);
      expect(out.stderr).toContain('usage: npm run token');
      expect(out.stdout).toBe('');
    }
  });

  it('signs with JWT_SECRET and includes JWT_ISSUER / JWT_AUDIENCE when configured', async () => {
    const env = { JWT_SECRET: 'x'.repeat(40), JWT_ISSUER: 'bench', JWT_AUDIENCE: 'ui', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cb-token-')) };
    const out = await tokenCli(['--role', 'operator', '--ttl', '60'], env);
    expect(out.code).toBe(0);
    const [, body] = out.stdout.trim().split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ role: 'operator', iss: 'bench', aud: 'ui' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(60);
  });
});

// Prints a JWT for the push API and REST, signed with the key the gateway verifies with:
//   npm run token -- --role operator|viewer [--chargers CP1,CP2] [--ttl 8h] [--sub alice]
// Reads the same environment as the gateway (JWT_SECRET, JWT_PRIVATE_KEY_FILE + JWT_PUBLIC_KEY_FILE, or the
// embedded secret in DATA_DIR, created here when the gateway has not run yet). Only the token goes to stdout.
import { parseArgs } from 'node:util';
import os from 'node:os';
import { parsePushConfig } from '../src/push/config.js';
import { loadTokenKeys } from '../src/push/keys.js';
import { signToken } from '../src/push/jwt.js';

const USAGE = 'usage: npm run token -- --role operator|viewer [--chargers CP1,CP2] [--ttl 8h] [--sub NAME]';

function main(): number {
  let values: { role?: string | undefined; chargers?: string | undefined; ttl?: string | undefined; sub?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      options: {
        role: { type: 'string' },
        chargers: { type: 'string' },
        ttl: { type: 'string', default: '8h' },
        sub: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
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
  const role = values.role;
  if (role !== 'operator' && role !== 'viewer') {
    process.stderr.write(`--role must be operator or viewer\n${USAGE}\n`);
    return 2;
  }
  const chargers = values.chargers?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (role === 'viewer' && (!chargers || chargers.length === 0)) {
    process.stderr.write(`a viewer token needs --chargers CP1,CP2\n${USAGE}\n`);
    return 2;
  }
  const ttl = values.ttl ?? '8h';
  if (!/^\d+(s|m|h|d)?$/.test(ttl)) {
    process.stderr.write(`--ttl must be seconds or like 30m, 8h, 7d\n${USAGE}\n`);
    return 2;
  }
  const config = parsePushConfig(process.env);
  const keys = loadTokenKeys(config.key);
  if (keys.created) process.stderr.write(`generated the embedded JWT secret in ${keys.origin} (mode 0600)\n`);
  const token = signToken(
    keys,
    { sub: values.sub ?? `${role}:${os.userInfo().username}`, role, ...(chargers ? { chargers } : {}), ttl: /^\d+$/.test(ttl) ? Number(ttl) : ttl },
    { ...(config.issuer ? { issuer: config.issuer } : {}), ...(config.audience ? { audience: config.audience } : {}) },
  );
  process.stdout.write(`${token}\n`);
  return 0;
}

try {
  process.exitCode = main();
} catch (err) {
  process.stderr.write(`token: ${(err as Error).message}\n`);
  process.exitCode = 1;
}

// The long fuzz run (npm run bench:fuzz): the production entry (dist/, built first) under 100,000 hostile frames
// per mode with a random seed, frames up to 1 MiB so that byte budgets matter, and the bar of a
// well-behaved p99 within 2x of its no-fuzz baseline. Extra arguments go to the fuzzer and win over these.
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '../..');
execFileSync(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
const defaults = ['--entry', 'dist', '--frames', '100000', '--seconds', '120', '--mode', 'both', '--max-frame-bytes', String(1024 * 1024), '--max-p99-ratio', '2'];
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/fuzz.ts'), ...defaults, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));

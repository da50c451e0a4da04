// `npm start` as an operator (or systemd, or a container runtime) runs it: one gateway process that stops cleanly
// when the npm process is signalled, leaving no process behind and the port free. Linux only (reads /proc).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { GATEWAY_NODE_FLAGS } from '../src/node-flags.js';

const root = path.resolve(import.meta.dirname, '..');

/** Parent pid of a process from /proc/<pid>/stat (the field after the parenthesised name), or undefined if gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function descendantsOf(pid: number): number[] {
  const all = readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
  const found: number[] = [];
  let frontier = [pid];
  while (frontier.length > 0) {
    const next = all.filter((p) => frontier.includes(parentOf(p) ?? -1));
    found.push(...next);
    frontier = next;
  }
  return found;
}

function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8')); // a zombie has exited
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function until(what: string, pred: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function npmStart(): { npm: ChildProcess; output: () => string; port: Promise<number>; exited: Promise<void> } {
  const npm = spawn('npm', ['start'], {
    cwd: root,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SIM_STATIONS: '0', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cb-start-')) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  npm.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => npm.once('exit', () => resolve()));
  const port = (async () => {
    let m: RegExpExecArray | null = null;
    await until('the listening line', () => (m = /"port":(\d+)/.exec(out)) !== null || npm.exitCode !== null, 150_000);
    if (m === null) throw new Error(`npm start exited before listening:\n${out}`);
    return Number((m as RegExpExecArray)[1]);
  })();
  return { npm, output: () => out, port, exited };
}

describe('npm start', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`runs the compiled gateway as npm's only child and stops it cleanly when npm gets ${signal}`, async () => {
      const run = npmStart();
      const npmPid = run.npm.pid as number;
      let tree: number[] = [];
      try {
        const port = await run.port;
        expect(await portOpen(port)).toBe(true);
        tree = descendantsOf(npmPid);
        // One process: no shell and no TypeScript loader between npm and the gateway.
        expect(tree.map(cmdline)).toEqual([expect.stringMatching(new RegExp(`^\\S*node ${GATEWAY_NODE_FLAGS.join(' ')} dist/main\\.js$`))]);
        process.kill(npmPid, signal);
        await run.exited;
        await until('every process npm started to exit', () => tree.every((p) => !alive(p)), 20_000);
        expect(await portOpen(port)).toBe(false);
        expect(run.output()).toContain(`"signal":"${signal}"`);
        expect(run.output()).toMatch(/"msg":"stopped"/);
      } finally {
        for (const p of [npmPid, ...tree]) if (alive(p)) process.kill(p, 'SIGKILL');
      }
    }, 180_000);
  }
});

describe('log format', () => {
  it('is human-readable in a terminal (pino-pretty) and JSON lines elsewhere', async () => {
    // util-linux `script` gives the gateway a pseudo-terminal as stdout.
    const env = { ...process.env, PORT: '0', HOST: '127.0.0.1', SIM_STATIONS: '0', DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'cb-tty-')) };
    const child = spawn('script', ['-qec', `exec ${process.execPath} --import tsx src/main.ts`, '/dev/null'], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await until('the listening line', () => /gateway listening on/.test(out), 60_000);
      const line = out.split(/\r?\n/).find((l) => l.includes('gateway listening on')) ?? '';
      expect(line).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] .*INFO.*gateway listening on/);
      expect(out).not.toMatch(/^\{"level"/m);
    } finally {
      for (const p of descendantsOf(child.pid as number)) if (alive(p)) process.kill(p, 'SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  }, 90_000);
});

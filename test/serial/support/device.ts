// Drives firmware-bridge's device stand-in (the real C++ BridgeLink on a pty) from a test: commands on its
// stdin, JSON events from its stdout.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

export const FIRMWARE_BRIDGE = fileURLToPath(new URL('../../../firmware-bridge/', import.meta.url));
export const BUILD_DIR = path.join(FIRMWARE_BRIDGE, 'build');
const STANDIN = path.join(BUILD_DIR, 'device_standin');

/** Builds the stand-in (running the host unit tests too) when it is missing or older than its sources. */
export function buildStandin(): string {
  const sources = [
    ...readdirSync(path.join(FIRMWARE_BRIDGE, 'src')).map((f) => path.join(FIRMWARE_BRIDGE, 'src', f)),
    path.join(FIRMWARE_BRIDGE, 'test', 'device_standin.cpp'),
  ];
  const newest = Math.max(...sources.map((f) => statSync(f).mtimeMs));
  if (!existsSync(STANDIN) || statSync(STANDIN).mtimeMs < newest) {
    execFileSync('bash', [path.join(FIRMWARE_BRIDGE, 'test', 'run-host-tests.sh')], { stdio: 'pipe' });
  }
  return STANDIN;
}

export interface DeviceEvent {
  readonly ev: string;
  readonly text?: string;
  readonly [key: string]: unknown;
}

export interface Device {
  readonly events: DeviceEvent[];
  command(line: string): void;
  /** Waits for an event matching pred that arrived after index `from` (default: any so far). */
  waitFor(pred: (e: DeviceEvent) => boolean, timeoutMs?: number, from?: number): Promise<DeviceEvent>;
  /** Waits for a CALL from the central system with this action; returns its message id and payload. */
  waitForCall(action: string, timeoutMs?: number): Promise<{ id: string; payload: Record<string, unknown> }>;
  received(): unknown[][];
  /** SIGSTOP / SIGCONT: a firmware whose loop does not run for a while. */
  signal(sig: NodeJS.Signals): void;
  stop(): Promise<void>;
}

export interface DeviceOptions {
  readonly baud?: number;
  readonly rx?: number;
  readonly mtu?: number;
  readonly max?: number;
  /** Highest protocol version the board offers (firmware-bridge's BridgeConfig.protocolVersion); 1 = old firmware. */
  readonly proto?: number;
}

export function startDevice(tty: string, chargeBoxId: string, opts: DeviceOptions = {}): Device {
  const args = [tty, chargeBoxId];
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) args.push(`--${k}`, String(v));
  const proc: ChildProcess = spawn(buildStandin(), args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const events: DeviceEvent[] = [];
  const waiters = new Set<() => void>();
  const consumedCalls = new Set<number>();
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as DeviceEvent);
    for (const w of waiters) w();
  });
  const device: Device = {
    events,
    command(line) {
      proc.stdin!.write(line.replace(/\n/g, ' ') + '\n');
    },
    waitFor(pred, timeoutMs = 10_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          for (let i = from; i < events.length; i++) {
            const e = events[i] as DeviceEvent;
            if (pred(e)) {
              waiters.delete(onEvent);
              clearTimeout(timer);
              resolve(e);
              return true;
            }
          }
          return false;
        };
        const onEvent = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(onEvent);
          reject(new Error(`device ${chargeBoxId}: no matching event in ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-15))}`));
        }, timeoutMs);
        if (!check()) waiters.add(onEvent);
      });
    },
    async waitForCall(action, timeoutMs) {
      const e = await device.waitFor((ev) => {
        if (ev.ev !== 'recv' || typeof ev.text !== 'string') return false;
        const f = JSON.parse(ev.text) as unknown[];
        return f[0] === 2 && f[2] === action && !consumedCalls.has(events.indexOf(ev));
      }, timeoutMs);
      consumedCalls.add(events.indexOf(e));
      const f = JSON.parse(e.text as string) as [2, string, string, Record<string, unknown>];
      return { id: f[1], payload: f[3] };
    },
    received() {
      return events.filter((e) => e.ev === 'recv').map((e) => JSON.parse(e.text as string) as unknown[]);
    },
    signal(sig) {
      proc.kill(sig);
    },
    async stop() {
      if (proc.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.stdin!.end('quit\n');
        setTimeout(() => proc.kill('SIGKILL'), 2000).unref();
      });
    },
  };
  return device;
}

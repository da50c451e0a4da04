// A real kill -9 of the standalone simulator (scripts/sim.ts in a child process) in the middle of a session, then a
// restart on the same data dir: the open transaction is closed with StopTransaction reason PowerLoss, as the
// firmware does after a power loss, and no transaction is left open beside the next one.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startSteveDouble, type SteveDouble } from '../support/steve-double.js';
import { tempDir, until } from './helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];
const doubles: SteveDouble[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of doubles.splice(0)) await d.close().catch(() => undefined);
});

/** A central system that hands out transaction ids and keeps the set of transactions it considers open. */
async function centralSystem(opts: { answerStarts: () => boolean }) {
  let nextTx = 100;
  const open = new Set<number>();
  const log: { action: 'start' | 'stop'; transactionId: number; payload: Record<string, unknown> }[] = [];
  const steve = await startSteveDouble({
    getConfigurationOnConnect: false,
    handlers: {
      StartTransaction: (payload) => {
        if (!opts.answerStarts()) return undefined;
        const transactionId = ++nextTx;
        open.add(transactionId);
        log.push({ action: 'start', transactionId, payload });
        return { transactionId, idTagInfo: { status: 'Accepted' } };
      },
      StopTransaction: (payload) => {
        const transactionId = Number(payload.transactionId);
        open.delete(transactionId);
        log.push({ action: 'stop', transactionId, payload });
        return {};
      },
    },
  });
  doubles.push(steve);
  const meterWh = (transactionId: number): number[] =>
    steve.received
      .filter((f) => f.frame[0] === 2 && f.frame[2] === 'MeterValues' && (f.frame[3] as { transactionId?: number }).transactionId === transactionId)
      .flatMap((f) => (f.frame[3] as { meterValue: { sampledValue: { measurand?: string; value: string }[] }[] }).meterValue)
      .flatMap((mv) => mv.sampledValue.filter((s) => s.measurand === 'Energy.Active.Import.Register').map((s) => Number(s.value)));
  return { steve, open, log, meterWh };
}

/** Runs the standalone simulator CLI on a scenario, in its own process. */
function runSim(dataDir: string, target: string, name: string, steps: unknown[]): ChildProcess {
  const file = path.join(dataDir, `${name}.json`);
  const scenario = { name, speed: 10, stations: [{ id: 'CRASH-1', vehicle: { model: 'Max', initialSoc: 20, targetSoc: 95 } }], steps };
  writeFileSync(file, JSON.stringify(scenario));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/sim.ts'), '--scenario', file, '--target', target, '--data-dir', dataDir], {
    cwd: ROOT,
    env: { ...process.env, SIM_BOOT_DELAY_MS: '100', SIM_RECONNECT_MIN_MS: '200', SIM_RECONNECT_MAX_MS: '1000' },
    stdio: ['ignore', 'ignore', 'ignore'],
  });
  children.push(child);
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

const charge = [{ waitFor: 'booted', timeout: 120 }, { action: { type: 'start' } }, { sleep: 3600 }];
const chargeAgain = [{ waitFor: 'booted', timeout: 120 }, { sleep: 10 }, { action: { type: 'start' } }, { sleep: 3600 }];

it('kill -9 after the transaction id arrived: after the restart StopTransaction PowerLoss with that id and a measured meter value', async () => {
  const cs = await centralSystem({ answerStarts: () => true });
  const dataDir = tempDir();
  const first = runSim(dataDir, cs.steve.url, 'charge', charge);
  await until(() => cs.log.length === 1 && cs.meterWh(cs.log[0]!.transactionId).length >= 2, 60_000, 'a session with meter values');
  const tx = cs.log[0]!;
  await kill9(first);

  runSim(dataDir, cs.steve.url, 'again', chargeAgain);
  await until(() => cs.log.filter((e) => e.action === 'start').length === 2, 60_000, 'a new session after the restart');
  const stop = cs.log.find((e) => e.action === 'stop' && e.transactionId === tx.transactionId);
  expect(stop?.payload).toMatchObject({ reason: 'PowerLoss' });
  // The last reading the station had on disk: its meterStart or one it reported in MeterValues.
  expect([Number(tx.payload.meterStart), ...cs.meterWh(tx.transactionId)]).toContain(Number(stop!.payload.meterStop));
  expect(cs.log.indexOf(stop!)).toBeLessThan(cs.log.findLastIndex((e) => e.action === 'start'));
  expect([...cs.open]).toEqual([cs.log.at(-1)!.transactionId]);
  // The boot after the restart comes before the stop, as on the firmware.
  const order = cs.steve.received.filter((f) => f.frame[0] === 2).map((f) => f.frame[2]);
  expect(order.lastIndexOf('BootNotification')).toBeLessThan(order.lastIndexOf('StopTransaction'));
}, 150_000);

it('kill -9 before the transaction id arrived: after the restart StartTransaction is replayed, then StopTransaction PowerLoss', async () => {
  let answer = false;
  const cs = await centralSystem({ answerStarts: () => answer });
  const dataDir = tempDir();
  const first = runSim(dataDir, cs.steve.url, 'charge', charge);
  const sent = await cs.steve.waitFor((f) => f.frame[0] === 2 && f.frame[2] === 'StartTransaction', 60_000);
  await new Promise((r) => setTimeout(r, 1500)); // past the simulator's periodic flush: the old code had the Start on disk too
  await kill9(first);
  answer = true;

  runSim(dataDir, cs.steve.url, 'again', chargeAgain);
  await until(() => cs.log.filter((e) => e.action === 'start').length === 2, 60_000, 'a new session after the restart');
  const [replayed, stop] = cs.log;
  expect(replayed).toMatchObject({ action: 'start', payload: (sent.frame[3] as Record<string, unknown>) });
  expect(stop).toMatchObject({ action: 'stop', transactionId: replayed!.transactionId, payload: { reason: 'PowerLoss' } });
  expect([...cs.open]).toEqual([cs.log.at(-1)!.transactionId]);
}, 150_000);

// USB serial links: one PortRunner per configured or discovered port, each board becoming a StationLink of kind
// 'serial' after its hello. The gateway hands in attach (the relay), the bus, a logger, DATA_DIR and the
// metrics registry; it mounts deviceLogRouter() at /api/stations/:id/device-log behind its JWT check.
import path from 'node:path';
import express from 'express';
import type pino from 'pino';
import type { Registry } from 'prom-client';
import { SerialPort } from 'serialport';
import type { Bus } from '../events/bus.js';
import type { StationLink } from '../links/link.js';
import type { SerialConfig, SerialPortSpec } from './config.js';
import { DeviceLogStore } from './device-log.js';
import { discoverPorts, type ListedPort } from './discovery.js';
import { createSerialMetrics } from './metrics.js';
import { PortRunner, type PortState } from './port-runner.js';
import { SerialSession, type SessionCounters } from './session.js';

export type { SerialConfig, SerialPortSpec } from './config.js';
export { parseSerialConfig } from './config.js';

export interface SerialPortInfo {
  readonly path: string;
  readonly baudRate: number;
  readonly source: SerialPortSpec['source'];
  readonly state: PortState;
  readonly linkUp: boolean;
  readonly chargeBoxId?: string;
  readonly bridgeVersion?: string;
  readonly protocolVersion?: number;
  readonly opens: number;
  readonly lastError?: string;
  readonly counters: Readonly<SessionCounters>;
}

export interface SerialLinksDeps {
  readonly config: SerialConfig;
  readonly attach: (link: StationLink) => void;
  readonly bus: Bus;
  readonly logger: pino.Logger;
  readonly dataDir: string;
  readonly registry: Registry;
  /** Port listing for auto-discovery; SerialPort.list by default. */
  readonly listPorts?: () => Promise<readonly ListedPort[]>;
  /** Where auto-discovery reads sysfs when udev is unavailable (tests). */
  readonly sysRoot?: string;
  /** Cluster mode: this node's id, in the ids of device-log events (numbered per node's files). */
  readonly idScope?: () => string;
}

export interface SerialLinks {
  start(): Promise<void>;
  stop(): Promise<void>;
  ports(): SerialPortInfo[];
  deviceLogRouter(): express.Router;
  /** Resolves when every device-log line received so far is on disk. */
  flushDeviceLogs(): Promise<void>;
}

export function createSerialLinks(deps: SerialLinksDeps): SerialLinks {
  const { config, logger } = deps;
  const log = logger.child({ module: 'serial' });
  const runners = new Map<string, PortRunner>();
  const metrics = createSerialMetrics(deps.registry, () => [...runners.values()].filter((r) => r.session.linkUp).length);
  const deviceLog = new DeviceLogStore({
    dir: path.join(deps.dataDir, 'serial', 'device-log'),
    maxFileBytes: config.deviceLog.maxFileBytes,
    files: config.deviceLog.files,
    bus: deps.bus,
    logger: log,
    onLine: () => metrics.logLines.inc(),
    ...(deps.idScope !== undefined ? { idScope: deps.idScope } : {}),
  });
  let started = false;
  let discoverTimer: NodeJS.Timeout | undefined;
  let discoveryNote: string | undefined;

  function addPort(spec: SerialPortSpec): void {
    if (runners.has(spec.path)) return;
    const runner = new PortRunner({
      spec,
      metrics,
      logger: log,
      reopenMinMs: config.reopenMinMs,
      reopenMaxMs: config.reopenMaxMs,
      session: (write) =>
        new SerialSession({
          portPath: spec.path,
          ...(spec.chargeBoxId !== undefined ? { configuredId: spec.chargeBoxId } : {}),
          write,
          attach: deps.attach,
          deviceLog,
          metrics,
          logger: log,
          keepaliveMs: config.keepaliveMs,
          maxMessageBytes: config.maxMessageBytes,
          rejoinDelayMs: config.rejoinDelayMs,
          protocolVersion: config.protocolVersion,
        }),
    });
    runners.set(spec.path, runner);
    if (started) runner.start();
  }

  async function discover(): Promise<void> {
    const found = await discoverPorts({
      list: deps.listPorts ?? (() => SerialPort.list()),
      ...(deps.sysRoot !== undefined ? { sysRoot: deps.sysRoot } : {}),
    });
    if (found.note !== discoveryNote) {
      discoveryNote = found.note;
      if (found.note) {
        log.warn({ method: found.method }, found.method === 'none'
          ? `serial auto-discovery unavailable: ${found.note}; only SERIAL_PORTS and the config file's ports are opened`
          : `serial auto-discovery reads /sys: ${found.note}`);
      }
    }
    for (const p of found.ports) {
      if (runners.has(p.path)) continue;
      log.info({ port: p.path, bridge: p.bridge, vendorId: p.vendorId, productId: p.productId }, 'serial port discovered');
      addPort({ path: p.path, baudRate: config.baudRate, source: 'discovered' });
    }
  }

  for (const spec of config.ports) addPort(spec);

  return {
    async start() {
      started = true;
      for (const r of runners.values()) r.start();
      if (config.autodiscover) {
        await discover();
        const tick = (): void => {
          discoverTimer = setTimeout(() => {
            discover().catch((err: unknown) => log.error({ err }, 'serial auto-discovery failed')).finally(() => {
              if (started) tick();
            });
          }, config.discoverIntervalMs);
          discoverTimer.unref();
        };
        tick();
      }
      log.info({ ports: [...runners.keys()], autodiscover: config.autodiscover }, 'serial links started');
    },
    async stop() {
      started = false;
      if (discoverTimer) clearTimeout(discoverTimer);
      await Promise.all([...runners.values()].map((r) => r.stop()));
      await deviceLog.flush();
    },
    ports() {
      return [...runners.values()].map((r) => {
        const board = r.session.board;
        return {
          path: r.spec.path,
          baudRate: r.spec.baudRate,
          source: r.spec.source,
          state: r.state,
          linkUp: r.session.linkUp,
          ...(board ? { chargeBoxId: board.chargeBoxId, bridgeVersion: board.bridgeVersion, protocolVersion: board.version } : {}),
          opens: r.opens,
          ...(r.lastError !== undefined ? { lastError: r.lastError } : {}),
          counters: { ...r.session.counters },
        };
      });
    },
    deviceLogRouter() {
      const router = express.Router({ mergeParams: true });
      router.get('/', async (req, res) => {
        const id = (req.params as Record<string, string | undefined>).id;
        const limit = Number(req.query.limit ?? 200);
        const afterRaw = req.query.after;
        const after = afterRaw === undefined ? undefined : Number(afterRaw);
        if (!id || !Number.isInteger(limit) || limit < 1 || limit > 5000 || (after !== undefined && (!Number.isInteger(after) || after < 0))) {
          res.status(400).json({ error: { code: 'bad_request', message: 'limit must be an integer in 1..5000 and after a non-negative integer' } });
          return;
        }
        const lines = await deviceLog.read(id, { limit, ...(after !== undefined ? { after } : {}) });
        res.json({ chargeBoxId: id, lines, next: lines.length > 0 ? (lines[lines.length - 1] as { n: number }).n : (after ?? 0) });
      });
      return router;
    },
    flushDeviceLogs: () => deviceLog.flush(),
  };
}

// The simulator: owns the stations, the shared timer wheel and the persistence flusher; implements what
// simulator.ts promises (create / remove / list / act) for REST, Socket.IO, scenarios and the config file.
import type { Logger } from 'pino';
import type { StationLink } from '../links/link.js';
import { realClock, type Clock } from './clock.js';
import { TimerWheel } from './wheel.js';
import { QueueStore } from './queue-store.js';
import { SimStation, type StationEnv } from './station.js';
import { checkAction, checkStationSpec, type SimStationSpec } from './spec.js';
import { linkTransport } from './link-transport.js';
import type { SimTransport } from './transport.js';
import type { SimConfig } from './config.js';
import { simRouter } from './router.js';
import { SimError, type Simulator } from './simulator.js';

export { SimError, type SimErrorCode, type Simulator, type SimTotals } from './simulator.js';
export type { SimConfig } from './config.js';
export type { SimStationInfo, ActResult } from './station.js';
export type { SimAction, SimStationSpec } from './spec.js';

export interface SimulatorDeps {
  readonly config: SimConfig;
  /** In-process mode: each connection becomes a StationLink (kind 'sim') handed to the relay. */
  readonly attach?: (link: StationLink) => void;
  /** Any other transport (e.g. wsTransport(url)); takes precedence over attach. */
  readonly transport?: SimTransport;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly clock?: Clock;
  readonly random?: () => number;
}

const FLUSH_EVERY_MS = 1000;

export function createSimulator(deps: SimulatorDeps): Simulator {
  const clock = deps.clock ?? realClock;
  const transport = deps.transport ?? (deps.attach ? linkTransport(deps.attach) : undefined);
  if (!transport) throw new SimError('invalid', 'createSimulator needs attach or transport');
  const wheel = new TimerWheel(clock);
  let storeErrors = 0;
  const store = new QueueStore(deps.dataDir, (err, id) => {
    // One line per burst, not one per station: a full disk or descriptor table fails them all.
    if (storeErrors++ % 1000 === 0) deps.logger.error({ err, station: id, failures: storeErrors }, 'sim: offline queue could not be written');
  });
  const env: StationEnv = { clock, wheel, transport, store, logger: deps.logger, limits: deps.config.limits, random: deps.random ?? Math.random };
  const stations = new Map<string, SimStation>();
  let started = false;
  let flusher: NodeJS.Timeout | undefined;

  function station(id: string): SimStation {
    const s = stations.get(id);
    if (!s) throw new SimError('not_found', `no simulated station ${id}`);
    return s;
  }

  /** Creates a station; it powers on now when the simulator runs and `powerNow` is set. */
  function add(spec: SimStationSpec, powerNow: boolean): SimStation {
    const checked = checkStationSpec(spec);
    if (!checked.ok) throw new SimError('invalid', checked.message);
    if (stations.has(spec.id)) throw new SimError('conflict', `station ${spec.id} exists`);
    const s = new SimStation(checked.spec, env);
    stations.set(spec.id, s);
    if (started && powerNow) s.powerOn();
    return s;
  }

  const sim: Simulator = {
    clock,
    async start() {
      if (started) return;
      started = true;
      wheel.start();
      flusher = setInterval(() => void store.flush().catch((err: unknown) => deps.logger.error({ err }, 'sim: queue flush failed')), FLUSH_EVERY_MS);
      flusher.unref();
      const specs = deps.config.stations;
      const step = specs.length > 1 ? deps.config.connectSpreadMs / specs.length : 0;
      specs.forEach((spec, i) => {
        if (!stations.has(spec.id)) add(spec, false);
        stations.get(spec.id)!.powerOn(deps.config.limits.bootDelayMs + i * step);
      });
      for (const s of stations.values()) s.powerOn();
      deps.logger.info({ stations: stations.size, transport: transport.kind }, 'sim: started');
    },
    async stop() {
      if (!started) return;
      started = false;
      if (flusher) clearInterval(flusher);
      for (const s of stations.values()) s.powerOff();
      wheel.stop();
      await store.flush();
      store.flushSync();
    },
    create(spec) {
      return add(spec, true).info();
    },
    remove(id) {
      station(id).remove();
      stations.delete(id);
    },
    list() {
      return [...stations.values()].map((s) => s.info());
    },
    get(id) {
      return station(id).info();
    },
    async act(id, action) {
      const s = station(id);
      const checked = checkAction(action);
      if (!checked.ok) throw new SimError('invalid', checked.message);
      const result = s.act(checked.action);
      return { ...result, station: s.info() };
    },
    totals() {
      let online = 0, booted = 0, charging = 0, queued = 0, framesOut = 0, framesIn = 0, txStarted = 0, txStopped = 0;
      let energyWh = 0, callErrors = 0, timeouts = 0, dropped = 0, droppedForBytes = 0;
      for (const s of stations.values()) {
        if (s.online) online++;
        if (s.booted) booted++;
        for (const c of s.connectors) if (c.status === 'Charging') charging++;
        queued += s.queueLength;
        const k = s.counters;
        framesOut += k.framesOut; framesIn += k.framesIn; txStarted += k.txStarted; txStopped += k.txStopped;
        energyWh += k.energyWh; callErrors += k.callErrors; timeouts += k.timeouts; dropped += k.dropped;
        droppedForBytes += k.droppedForBytes ?? 0;
      }
      return { stations: stations.size, online, booted, charging, queued, framesOut, framesIn, txStarted, txStopped, energyWh, callErrors, timeouts, dropped, droppedForBytes };
    },
    router() {
      return simRouter(sim);
    },
  };
  return sim;
}

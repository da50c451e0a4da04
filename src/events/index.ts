// The event model, assembled: wire extraction → source rule + sequencer → history and station state.
// main.ts creates one with the shared bus; push and REST read `state` and `history`.
import type { Logger } from 'pino';
import type { Bus } from './bus.js';
import { WireEvents } from './from-wire.js';
import type { EventType } from './catalogue.js';
import { EventHistory, type HistoryBudget } from './history.js';
import { StateKeepFile } from './state-keep.js';
import { Sequencer, type SharedSequencing } from './sequencer.js';
import { SourceRule } from './source-rule.js';
import { StationStateStore } from './station-state.js';
import { DEFAULT_KM_PER_AH, DEFAULT_VENDOR_ID } from './vehicle.js';
import { BUILTIN_VENDOR_MESSAGES_DIR, VendorRegistry } from './vendor-registry.js';

export { EventHistory, type HistoryBudget, type HistoryQuery } from './history.js';
export {
  StationStateStore, type ConnectorReason, type ConnectorSummary, type StationSnapshot, type StationSummary, type TransactionRecord, type VehicleState,
} from './station-state.js';
export { BINLOG_OWNED } from './source-rule.js';
export type { SharedSequencing, UnsequencedEvent } from './sequencer.js';
export { DEFAULT_KM_PER_AH, DEFAULT_VENDOR_ID } from './vehicle.js';
export { VendorMessageError, VendorRegistry } from './vendor-registry.js';

export interface EventModelDeps {
  readonly bus: Bus;
  readonly dataDir: string;
  readonly logger: Logger;
  readonly binlogConfigured: boolean;
  /** Vendor whose PreChargeData / VehicleInfo / SessionSummary / BMSAlert are understood (default RivotMotors). */
  readonly vendorId?: string;
  /** Range per Ah of battery charge (default 2.7 km/Ah, as the firmware). */
  readonly kmPerAh?: number;
  /** Events kept per station for replay (default 1000). */
  readonly historyPerStation?: number;
  /** History byte budgets and the largest event kept as it is (defaults in history.ts). */
  readonly historyStationBytes?: number;
  readonly historyTotalBytes?: number;
  readonly maxEventBytes?: number;
  /** DataTransfer data longer than this is kept cut short (default 8 KiB). */
  readonly maxDataBytes?: number;
  /** A station's frame findings sent as events per second at most (default 10). */
  readonly findingsPerSecond?: number;
  /** Operator's vendor message files, beside the shipped ones (a bad file throws VendorMessageError). */
  readonly vendorMessagesDir?: string;
  /** Cluster mode: seq from a store shared by every node, and every node's events recorded here (src/cluster). */
  readonly shared?: SharedSequencing;
}

export interface EventModel {
  start(): Promise<void>;
  /** The vendor DataTransfer messages understood (vendor-messages/ and EVENTS_VENDOR_MESSAGES_DIR). */
  readonly vendorMessages: VendorRegistry;
  stop(): Promise<void>;
  readonly state: StationStateStore;
  readonly history: EventHistory;
  /** Counters for /health and metrics. */
  stats(): {
    received: number; emitted: number; duplicates: number; suppressed: number; twinsDropped: number; historyWriteErrors: number;
    /** Records left out of DATA_DIR/station-state.json (beyond its cap), and its failed writes. */
    stateKeepDropped: number; stateKeepWriteErrors: number;
    /** Frame findings not sent as events because their station was over EVENTS_FINDINGS_PER_SECOND. */
    findingsCapped: number;
    history: HistoryBudget;
  };
}

/** Events after which the open transactions or a connector's status may differ (state-keep.ts). */
const KEPT_CHANGES: ReadonlySet<EventType> = new Set<EventType>(['transactionStarted', 'transactionStopped', 'bootNotification', 'resync', 'status']);

export function createEventModel(deps: EventModelDeps): EventModel {
  const registry = VendorRegistry.load([BUILTIN_VENDOR_MESSAGES_DIR, ...(deps.vendorMessagesDir !== undefined ? [deps.vendorMessagesDir] : [])]);
  const vendor = {
    registry,
    vendorId: deps.vendorId ?? DEFAULT_VENDOR_ID,
    kmPerAh: deps.kmPerAh ?? DEFAULT_KM_PER_AH,
    ...(deps.maxDataBytes !== undefined ? { maxDataBytes: deps.maxDataBytes } : {}),
  };
  const logger = deps.logger.child({ module: 'events' });
  const history = new EventHistory({
    dataDir: deps.dataDir,
    perStation: deps.historyPerStation ?? 1000,
    logger,
    ...(deps.historyStationBytes !== undefined ? { stationBytes: deps.historyStationBytes } : {}),
    ...(deps.historyTotalBytes !== undefined ? { totalBytes: deps.historyTotalBytes } : {}),
    ...(deps.maxEventBytes !== undefined ? { maxEventBytes: deps.maxEventBytes } : {}),
  });
  const rule = new SourceRule({ binlogConfigured: deps.binlogConfigured, ...vendor });
  const sequencer = new Sequencer({ bus: deps.bus, history, rule, logger, recentIdsPerStation: Math.max(4096, deps.historyPerStation ?? 1000), ...(deps.shared ? { shared: deps.shared } : {}) });
  const state = new StationStateStore({ kmPerAh: vendor.kmPerAh });
  const shared = deps.shared;
  const wire = new WireEvents({
    bus: deps.bus, logger, vendor,
    ...(shared ? { idScope: () => shared.nodeId } : {}),
    ...(deps.findingsPerSecond !== undefined ? { findingsPerSecond: deps.findingsPerSecond } : {}),
  });
  const keepFile = new StateKeepFile(deps.dataDir, logger);
  let offSave: (() => void) | undefined;
  let started = false;

  return {
    state,
    history,
    vendorMessages: registry,
    async start() {
      if (started) return;
      history.restore();
      sequencer.seedFromHistory();
      // Open transactions and statuses first (their events may have left the history), then the retained
      // events; the bus brings everything after. The wire extractor learns the open ones' connector and
      // meterStart, so a stop after the restart still carries them.
      state.restore(keepFile.load());
      for (const id of history.stations()) for (const e of history.recent(id)) state.apply(e);
      wire.seed(state.keep().openTransactions);
      const keepSource = { ids: () => state.ids(), station: (id: string) => state.keepOf(id), all: () => state.keep() };
      offSave = state.onChange((id, e) => {
        // Any change may alter what is kept (an open transaction's energy); only these are worth a write.
        keepFile.touched(id);
        if (KEPT_CHANGES.has(e.type)) keepFile.schedule(keepSource);
      });
      state.attach(deps.bus);
      sequencer.start();
      wire.start();
      started = true;
      logger.info({
        binlogConfigured: deps.binlogConfigured, stations: history.stations().length,
        vendorMessages: registry.entries().map((m) => `${m.vendorId}/${m.messageId}`),
      }, 'event model started');
    },
    async stop() {
      if (!started) return;
      wire.stop();
      sequencer.stop();
      state.detach();
      offSave?.();
      await keepFile.flush();
      history.close();
      started = false;
    },
    stats() {
      return {
        ...sequencer.counters, ...rule.counters, historyWriteErrors: history.writeErrors,
        stateKeepDropped: keepFile.counters.dropped, stateKeepWriteErrors: keepFile.counters.writeErrors,
        findingsCapped: wire.findingsCapped,
        history: history.budget(),
      };
    },
  };
}

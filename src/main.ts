// Process entry: configuration from the environment, the gateway, and signal handling. A shutdown ends within a
// bound whatever stdout and stderr are connected to: log lines go through a sink that never blocks (log-sink.ts),
// the deadline is set before anything else, and a thread of its own ends the process if the main one is stuck.
import { loadConfig } from './config.js';
import { GatewayError } from './errors.js';
import { armExitWatchdog } from './exit-watchdog.js';
import { createGateway } from './gateway.js';
import { LogSink } from './log-sink.js';
import { createLogger, logFormatFor } from './logger.js';
import { GATEWAY_NODE_FLAGS, hasSemiSpaceFlag } from './node-flags.js';

/** The documented bound of a shutdown (README "Start and stop"): beyond it, exit code 1. */
const SHUTDOWN_MS = 10_000;
/** Then the last log lines get this long to leave; what a slow or full stdout still holds is lost, counted. */
const FLUSH_MS = 1_000;
/** The watchdog thread's margin beyond both: only a main thread stuck in a synchronous call reaches it. */
const STUCK_MS = SHUTDOWN_MS + FLUSH_MS + 1_000;

// A reader of stderr that is gone must not turn a message into an unhandled EPIPE (stdout's is the sink's).
process.stderr.on('error', () => undefined);

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof GatewayError && err.code === 'GW_ERR_CONFIG') {
      process.stderr.write(`chargebridge: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const format = logFormatFor(process.stdout);
  // JSON lines (a pipe, a file, journald): the sink. A terminal gets pino-pretty, which writes from its own thread.
  const sink = format === 'json' ? new LogSink(process.stdout, config.logBufferBytes) : undefined;
  const logger = createLogger(config.logLevel, format, sink);

  /** At most FLUSH_MS for the log lines still buffered to leave, then the exit code; the first call decides. */
  let exiting = false;
  const exit = async (code: number): Promise<void> => {
    if (exiting) return;
    exiting = true;
    if (sink && !(await sink.flush(FLUSH_MS))) {
      const s = sink.stats();
      process.stderr.write(`chargebridge: ${s.dropped} log lines were dropped: stdout ${s.failed !== null ? `failed (${s.failed})` : 'was not read fast enough'}\n`);
    }
    process.exit(code);
  };

  // Started without the young-generation flag (node dist/main.js): it runs, with longer tail latencies.
  if (!hasSemiSpaceFlag(process.execArgv, process.env.NODE_OPTIONS)) {
    logger.info({ recommended: GATEWAY_NODE_FLAGS.join(' ') }, `started without ${GATEWAY_NODE_FLAGS.join(' ')}: V8's default young generation grows and shrinks, which lengthens the relay's pauses where memory is slow to map (README "Start and stop")`);
  }

  let gateway;
  try {
    gateway = await createGateway(config, { logger, heapGrowth: true, ...(sink ? { logSink: sink } : {}) });
  } catch (err) {
    // Sections that feature modules read while the gateway is built (webhooks, vendor message files).
    if (err instanceof GatewayError && err.code === 'GW_ERR_CONFIG') {
      process.stderr.write(`chargebridge: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // The signals are heard from before start-up begins: the port opens before the simulator and serial links have
  // started, and a SIGTERM then (a supervisor that gives up, a quick ^C) must stop what started, not kill the process.
  const running = gateway;
  let stopping = false;
  /** Whether start-up went well, once it has ended; a failed start-up exits on its own path. */
  let started: Promise<boolean> = Promise.resolve(false);
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    // The deadlines first: nothing after this line can keep the process from ending. The timer is not unref'd: a
    // shutdown whose work stalls with nothing else pending ends with code 1 at the deadline, not with 0 early.
    armExitWatchdog(STUCK_MS);
    setTimeout(() => {
      logger.error({ logLinesDropped: sink?.stats().dropped }, `shutdown took longer than ${SHUTDOWN_MS / 1000} s; exiting`);
      void exit(1);
    }, SHUTDOWN_MS);
    logger.info({ signal }, 'shutting down: closing links and flushing the message log');
    void started.then((ok) => {
      if (!ok) return;
      return running.stop().then(
        () => {
          logger.info({ logLinesDropped: sink?.stats().dropped }, 'stopped');
          return exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          return exit(1);
        },
      );
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const starting = running.start();
  started = starting.then(() => true, () => false);
  try {
    await starting;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof GatewayError) {
      logger.fatal({ code: err.code, details: err.details }, err.message);
      process.stderr.write(`chargebridge: ${err.message}\n`);
    } else {
      logger.fatal({ err: e.message, code: e.code }, e.code === 'EADDRINUSE' ? `port ${config.port} is in use: set PORT to a free port` : 'gateway failed to start');
    }
    await running.stop().catch(() => undefined);
    return exit(1);
  }
}

await main();

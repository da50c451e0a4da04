// Process entry: configuration from the environment, the gateway, and signal handling.
import { loadConfig } from './config.js';
import { GatewayError } from './errors.js';
import { createGateway } from './gateway.js';
import { createLogger, logFormatFor } from './logger.js';

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
  const logger = createLogger(config.logLevel, logFormatFor(process.stdout));
  let gateway;
  try {
    gateway = await createGateway(config, { logger });
  } catch (err) {
    // Sections that feature modules read while the gateway is built (webhooks, vendor message files).
    if (err instanceof GatewayError && err.code === 'GW_ERR_CONFIG') {
      process.stderr.write(`chargebridge: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  try {
    await gateway.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (err instanceof GatewayError) {
      logger.fatal({ code: err.code, details: err.details }, err.message);
      process.stderr.write(`chargebridge: ${err.message}\n`);
    } else {
      logger.fatal({ err: e.message, code: e.code }, e.code === 'EADDRINUSE' ? `port ${config.port} is in use: set PORT to a free port` : 'gateway failed to start');
    }
    await gateway.stop().catch(() => undefined);
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: closing links and flushing the message log');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than 10 s; exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    gateway.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();

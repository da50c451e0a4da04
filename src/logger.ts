// Structured logs (pino). Authorization headers and tokens are redacted wherever they appear.
import pino from 'pino';
import type { LogLevel } from './config.js';

export type Logger = pino.Logger;

/** `destination`: where the lines go (default stdout); tests pass a stream to read what was logged. */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'chargebridge' },
    redact: { paths: ['*.authorization', '*.token', '*.password', 'req.headers.authorization'], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

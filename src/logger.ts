// Structured logs (pino). Authorization headers and tokens are redacted wherever they appear.
import pino from 'pino';
import type { LogLevel } from './config.js';

export type Logger = pino.Logger;

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { app: 'chargebridge' },
    redact: { paths: ['*.authorization', '*.token', '*.password', 'req.headers.authorization'], censor: '[redacted]' },
  });
}

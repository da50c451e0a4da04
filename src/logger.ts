// Structured logs (pino). Authorization headers and tokens are redacted wherever they appear.
import pino from 'pino';
import type { LogLevel } from './config.js';
import type { LogSink } from './log-sink.js';

export type Logger = pino.Logger;

/** `json`: one JSON object per line (files, journald, containers). `pretty`: human-readable, for a terminal. */
export type LogFormat = 'json' | 'pretty';

/**
 * `sink`: where JSON lines go (the process entry passes one that never blocks; see log-sink.ts). Without one, pino
 * writes to stdout synchronously (tests, scripts).
 */
export function createLogger(level: LogLevel, format: LogFormat = 'json', sink?: LogSink): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { app: 'chargebridge' },
    redact: { paths: ['*.authorization', '*.token', '*.password', 'req.headers.authorization'], censor: '[redacted]' },
  };
  if (format === 'json') return sink ? pino(options, sink) : pino(options);
  // pino-pretty runs as a transport in a worker thread: formatting never runs on the thread that relays frames.
  return pino({
    ...options,
    transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'app', destination: 1 } },
  });
}

/** The rule for the process entry: a terminal gets readable lines, anything else (pipe, file, journald) JSON lines. */
export function logFormatFor(stream: { isTTY?: boolean }): LogFormat {
  return stream.isTTY === true ? 'pretty' : 'json';
}

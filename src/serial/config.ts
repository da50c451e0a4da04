// Serial configuration: SERIAL_* environment variables and the config file's "serial" section.
import { GatewayError } from '../errors.js';
import { envBool, envInt, envString, type Env } from '../config-env.js';
import { CHARGE_BOX_ID_RE, PROTOCOL_VERSION } from './protocol.js';

export interface SerialPortSpec {
  readonly path: string;
  readonly baudRate: number;
  /** Overrides the chargeBoxId the board announces in its hello. */
  readonly chargeBoxId?: string;
  readonly source: 'env' | 'file' | 'discovered';
}

export interface SerialConfig {
  readonly ports: readonly SerialPortSpec[];
  /** Also open ports of known USB-serial bridges (CP210x, CH340/CH9102, FTDI, Espressif native USB). */
  readonly autodiscover: boolean;
  readonly discoverIntervalMs: number;
  /** For ports given without @baud and for discovered ones. */
  readonly baudRate: number;
  /** Keepalive period announced to boards; a link is down after three periods of silence. */
  readonly keepaliveMs: number;
  /** Largest message accepted from a board (reassembled). */
  readonly maxMessageBytes: number;
  readonly reopenMinMs: number;
  readonly reopenMaxMs: number;
  /** After the relay closed a board's link, its hellos are turned away this long. */
  readonly rejoinDelayMs: number;
  readonly deviceLog: { readonly maxFileBytes: number; readonly files: number };
  /** Highest serial protocol version offered to boards; 1 pins every board to the original line format. */
  readonly protocolVersion: number;
}

const MIN_BAUD = 300;
const MAX_BAUD = 4_000_000;

function bad(variable: string, message: string): never {
  throw new GatewayError('GW_ERR_CONFIG', message, { variable });
}

/** One `path[@baud][#chargeBoxId]` entry. */
function parsePortEntry(entry: string, variable: string, baudRate: number, source: SerialPortSpec['source']): SerialPortSpec {
  const m = /^([^@#]+)(?:@([^#]*))?(?:#(.*))?$/.exec(entry.trim());
  if (!m || !m[1]) return bad(variable, `${variable}: "${entry}" is not path[@baud][#chargeBoxId]`);
  const path = m[1].trim();
  let baud = baudRate;
  if (m[2] !== undefined) {
    if (!/^\d+$/.test(m[2]) || Number(m[2]) < MIN_BAUD || Number(m[2]) > MAX_BAUD) {
      bad(variable, `${variable}: baud rate "${m[2]}" in "${entry}" must be an integer in ${MIN_BAUD}..${MAX_BAUD}`);
    }
    baud = Number(m[2]);
  }
  const id = m[3];
  if (id !== undefined && !CHARGE_BOX_ID_RE.test(id)) {
    bad(variable, `${variable}: chargeBoxId "${id}" in "${entry}" must be 1..64 visible ASCII characters without spaces`);
  }
  return { path, baudRate: baud, ...(id !== undefined ? { chargeBoxId: id } : {}), source };
}

function fileSection(file: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const raw = file.serial;
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('CONFIG_FILE', 'CONFIG_FILE: "serial" must be an object');
  return raw as Record<string, unknown>;
}

function filePorts(section: Record<string, unknown>, baudRate: number): SerialPortSpec[] {
  const raw = section.ports;
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) return bad('CONFIG_FILE', 'CONFIG_FILE: serial.ports must be an array');
  return raw.map((item: unknown, i) => {
    if (typeof item === 'string') return parsePortEntry(item, 'CONFIG_FILE', baudRate, 'file');
    if (typeof item !== 'object' || item === null) return bad('CONFIG_FILE', `CONFIG_FILE: serial.ports[${i}] must be a string or an object`);
    const { path, baudRate: baud, chargeBoxId } = item as Record<string, unknown>;
    if (typeof path !== 'string' || path.trim() === '') return bad('CONFIG_FILE', `CONFIG_FILE: serial.ports[${i}].path must be a non-empty string`);
    if (baud !== undefined && (typeof baud !== 'number' || !Number.isInteger(baud) || baud < MIN_BAUD || baud > MAX_BAUD)) {
      bad('CONFIG_FILE', `CONFIG_FILE: serial.ports[${i}].baudRate must be an integer in ${MIN_BAUD}..${MAX_BAUD}`);
    }
    if (chargeBoxId !== undefined && (typeof chargeBoxId !== 'string' || !CHARGE_BOX_ID_RE.test(chargeBoxId))) {
      bad('CONFIG_FILE', `CONFIG_FILE: serial.ports[${i}].chargeBoxId must be 1..64 visible ASCII characters without spaces`);
    }
    return {
      path: path.trim(),
      baudRate: typeof baud === 'number' ? baud : baudRate,
      ...(typeof chargeBoxId === 'string' ? { chargeBoxId } : {}),
      source: 'file' as const,
    };
  });
}

export function parseSerialConfig(env: Env, file: Readonly<Record<string, unknown>> = {}): SerialConfig {
  const section = fileSection(file);
  const baudRate = envInt(env, 'SERIAL_BAUD', 115_200, MIN_BAUD, MAX_BAUD);
  const fromEnv = (envString(env, 'SERIAL_PORTS') ?? '')
    .split(',')
    .filter((e) => e.trim() !== '')
    .map((e) => parsePortEntry(e, 'SERIAL_PORTS', baudRate, 'env'));
  // One runner per path: the environment wins over the file.
  const ports = new Map<string, SerialPortSpec>();
  for (const p of [...filePorts(section, baudRate), ...fromEnv]) ports.set(p.path, p);
  const fileAuto = section.autodiscover;
  if (fileAuto !== undefined && typeof fileAuto !== 'boolean') bad('CONFIG_FILE', 'CONFIG_FILE: serial.autodiscover must be true or false');
  const reopenMinMs = envInt(env, 'SERIAL_REOPEN_MIN_MS', 250, 10, 60_000);
  return Object.freeze({
    ports: Object.freeze([...ports.values()]),
    autodiscover: envBool(env, 'SERIAL_AUTODISCOVER', fileAuto ?? false),
    discoverIntervalMs: envInt(env, 'SERIAL_AUTODISCOVER_INTERVAL_MS', 5_000, 100),
    baudRate,
    keepaliveMs: envInt(env, 'SERIAL_KEEPALIVE_MS', 2_000, 100, 60_000),
    maxMessageBytes: envInt(env, 'SERIAL_MAX_MESSAGE_BYTES', 65_536, 1_024, 16 * 1024 * 1024),
    reopenMinMs,
    reopenMaxMs: envInt(env, 'SERIAL_REOPEN_MAX_MS', 5_000, reopenMinMs, 300_000),
    rejoinDelayMs: envInt(env, 'SERIAL_REJOIN_DELAY_MS', 5_000, 0, 300_000),
    deviceLog: Object.freeze({
      maxFileBytes: envInt(env, 'SERIAL_DEVICE_LOG_MAX_BYTES', 1024 * 1024, 4 * 1024),
      files: envInt(env, 'SERIAL_DEVICE_LOG_FILES', 5, 1, 100),
    }),
    protocolVersion: envInt(env, 'SERIAL_PROTOCOL_VERSION', PROTOCOL_VERSION, 1, PROTOCOL_VERSION),
  });
}

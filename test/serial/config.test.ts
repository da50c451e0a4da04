import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { parseSerialConfig } from '../../src/serial/config.js';

function errorOf(fn: () => unknown): GatewayError {
  try {
    fn();
  } catch (err) {
    return err as GatewayError;
  }
  throw new Error('expected a GatewayError');
}

describe('parseSerialConfig', () => {
  it('has working defaults and no ports', () => {
    const c = parseSerialConfig({});
    expect(c).toMatchObject({ ports: [], autodiscover: false, baudRate: 115200, keepaliveMs: 2000, maxMessageBytes: 65536 });
    expect(c.deviceLog).toEqual({ maxFileBytes: 1024 * 1024, files: 5 });
    expect(c.protocolVersion).toBe(2);
    expect(parseSerialConfig({ SERIAL_PROTOCOL_VERSION: '1' }).protocolVersion).toBe(1);
  });

  it('reads SERIAL_PORTS entries path[@baud][#chargeBoxId]', () => {
    const c = parseSerialConfig({ SERIAL_PORTS: ' /dev/ttyUSB0 , /dev/ttyACM0@921600#FC-7,/dev/ttyUSB1#CB@lab,', SERIAL_BAUD: '230400' });
    expect(c.ports).toEqual([
      { path: '/dev/ttyUSB0', baudRate: 230400, source: 'env' },
      { path: '/dev/ttyACM0', baudRate: 921600, chargeBoxId: 'FC-7', source: 'env' },
      { path: '/dev/ttyUSB1', baudRate: 230400, chargeBoxId: 'CB@lab', source: 'env' },
    ]);
  });

  it('merges the config file section; the environment wins for the same path', () => {
    const c = parseSerialConfig(
      { SERIAL_PORTS: '/dev/ttyUSB0@57600' },
      { serial: { autodiscover: true, ports: ['/dev/ttyUSB0@9600#OLD', { path: '/dev/ttyUSB2', baudRate: 460800, chargeBoxId: 'FC-2' }] } },
    );
    expect(c.autodiscover).toBe(true);
    expect(c.ports).toEqual([
      { path: '/dev/ttyUSB0', baudRate: 57600, source: 'env' },
      { path: '/dev/ttyUSB2', baudRate: 460800, chargeBoxId: 'FC-2', source: 'file' },
    ]);
    expect(parseSerialConfig({ SERIAL_AUTODISCOVER: 'false' }, { serial: { autodiscover: true } }).autodiscover).toBe(false);
  });

  it('names the variable in every error', () => {
    expect(errorOf(() => parseSerialConfig({ SERIAL_PORTS: '/dev/ttyUSB0@fast' }))).toMatchObject({ code: 'GW_ERR_CONFIG', details: { variable: 'SERIAL_PORTS' } });
    expect(errorOf(() => parseSerialConfig({ SERIAL_PORTS: '/dev/ttyUSB0@50' })).message).toContain('300..4000000');
    expect(errorOf(() => parseSerialConfig({ SERIAL_PORTS: '/dev/ttyUSB0#has space' })).message).toContain('chargeBoxId');
    expect(errorOf(() => parseSerialConfig({ SERIAL_KEEPALIVE_MS: '5' }))).toMatchObject({ details: { variable: 'SERIAL_KEEPALIVE_MS' } });
    expect(errorOf(() => parseSerialConfig({ SERIAL_PROTOCOL_VERSION: '3' }))).toMatchObject({ details: { variable: 'SERIAL_PROTOCOL_VERSION' } });
    expect(errorOf(() => parseSerialConfig({}, { serial: { ports: [{ baudRate: 9600 }] } })).message).toContain('serial.ports[0].path');
    expect(errorOf(() => parseSerialConfig({}, { serial: 'yes' }))).toMatchObject({ details: { variable: 'CONFIG_FILE' } });
  });
});

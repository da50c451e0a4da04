// Auto-discovery: serialport's list when udev works; a sysfs walk when udevadm is missing (as in this container).
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverPorts, listFromSysfs, matchBridge } from '../../src/serial/discovery.js';

/** A fake /sys with two USB serial adapters, one unknown USB device and a built-in UART. */
function fakeSys(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'cb-sys-'));
  const usb = (dev: string, vid: string, pid: string, iface: string, tty: string): void => {
    const ifaceDir = path.join(root, 'devices', 'pci0000:00', 'usb1', dev, iface);
    mkdirSync(path.join(ifaceDir, tty), { recursive: true });
    writeFileSync(path.join(root, 'devices', 'pci0000:00', 'usb1', dev, 'idVendor'), `${vid}\n`);
    writeFileSync(path.join(root, 'devices', 'pci0000:00', 'usb1', dev, 'idProduct'), `${pid}\n`);
    mkdirSync(path.join(root, 'class', 'tty', tty), { recursive: true });
    symlinkSync(path.join(ifaceDir, tty), path.join(root, 'class', 'tty', tty, 'device'));
  };
  usb('1-1', '10c4', 'ea60', '1-1:1.0', 'ttyUSB0');
  usb('1-2', '303a', '1001', '1-2:1.0', 'ttyACM0');
  usb('1-3', '2341', '0043', '1-3:1.0', 'ttyACM1');
  mkdirSync(path.join(root, 'class', 'tty', 'ttyS0'), { recursive: true });
  return root;
}

describe('serial auto-discovery', () => {
  it('knows the common ESP32 USB bridges', () => {
    expect(matchBridge('10C4', 'EA60')?.name).toContain('CP210x');
    expect(matchBridge('1a86', '7523')?.name).toContain('CH340');
    expect(matchBridge('0403', '6001')?.name).toContain('FTDI');
    expect(matchBridge('303a', '0002')?.name).toContain('Espressif');
    expect(matchBridge('2341', '0043')).toBeUndefined();
    expect(matchBridge(undefined, undefined)).toBeUndefined();
  });

  it('filters serialport list results when udev answers', async () => {
    const found = await discoverPorts({
      list: async () => [
        { path: '/dev/ttyUSB0', vendorId: '1a86', productId: '7523' },
        { path: '/dev/ttyS0', vendorId: undefined, productId: undefined },
      ],
    });
    expect(found).toEqual({ method: 'udev', ports: [{ path: '/dev/ttyUSB0', vendorId: '1a86', productId: '7523', bridge: 'WCH CH340' }] });
  });

  it('reads /sys when udevadm is missing, and says so', async () => {
    const sysRoot = fakeSys();
    expect(listFromSysfs(sysRoot).map((p) => p.path).sort()).toEqual(['/dev/ttyACM0', '/dev/ttyACM1', '/dev/ttyUSB0']);
    const enoent = Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' });
    const found = await discoverPorts({ list: () => Promise.reject(enoent), sysRoot });
    expect(found.method).toBe('sysfs');
    expect(found.note).toContain('udevadm is not installed');
    expect(found.ports.map((p) => `${p.path} ${p.bridge}`).sort()).toEqual(['/dev/ttyACM0 Espressif native USB', '/dev/ttyUSB0 Silicon Labs CP210x']);
  });

  it('reports "none" when neither works', async () => {
    const found = await discoverPorts({ list: () => Promise.reject(new Error('no udev')), sysRoot: path.join(os.tmpdir(), 'does-not-exist-cb') });
    expect(found).toMatchObject({ method: 'none', ports: [] });
    expect(found.note).toContain('/sys/class/tty cannot be read');
  });
});

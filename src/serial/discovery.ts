// Finds serial ports of the USB bridges ESP32 boards use. Asks serialport's list (udev) first; where udevadm is
// missing (containers, minimal images) it reads the same vendor/product ids from /sys instead.
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';

export interface UsbBridge {
  readonly vendorId: string;
  /** Absent: every product of the vendor. */
  readonly productId?: string;
  readonly name: string;
}

export const USB_SERIAL_BRIDGES: readonly UsbBridge[] = [
  { vendorId: '10c4', productId: 'ea60', name: 'Silicon Labs CP210x' },
  { vendorId: '10c4', productId: 'ea70', name: 'Silicon Labs CP2105' },
  { vendorId: '10c4', productId: 'ea71', name: 'Silicon Labs CP2108' },
  { vendorId: '1a86', productId: '7523', name: 'WCH CH340' },
  { vendorId: '1a86', productId: '5523', name: 'WCH CH341' },
  { vendorId: '1a86', productId: '55d3', name: 'WCH CH343' },
  { vendorId: '1a86', productId: '55d4', name: 'WCH CH9102' },
  { vendorId: '0403', productId: '6001', name: 'FTDI FT232R' },
  { vendorId: '0403', productId: '6010', name: 'FTDI FT2232' },
  { vendorId: '0403', productId: '6011', name: 'FTDI FT4232' },
  { vendorId: '0403', productId: '6014', name: 'FTDI FT232H' },
  { vendorId: '0403', productId: '6015', name: 'FTDI FT-X' },
  // Espressif native USB (ESP32-S2/S3/C3 USB-Serial-JTAG and TinyUSB CDC): every product id.
  { vendorId: '303a', name: 'Espressif native USB' },
];

export interface FoundPort {
  readonly path: string;
  readonly vendorId: string;
  readonly productId: string;
  readonly bridge: string;
}

export interface Discovery {
  readonly ports: readonly FoundPort[];
  readonly method: 'udev' | 'sysfs' | 'none';
  /** Why the preferred method was not used. */
  readonly note?: string;
}

export function matchBridge(vendorId: string | undefined, productId: string | undefined): UsbBridge | undefined {
  const v = vendorId?.toLowerCase();
  const p = productId?.toLowerCase();
  return USB_SERIAL_BRIDGES.find((b) => b.vendorId === v && (b.productId === undefined || b.productId === p));
}

/** USB tty devices from sysfs: /sys/class/tty/<name>/device leads up to the USB device's idVendor/idProduct. */
export function listFromSysfs(sysRoot = '/sys', devRoot = '/dev'): { path: string; vendorId: string; productId: string }[] {
  const classDir = path.join(sysRoot, 'class', 'tty');
  const found = [];
  for (const name of readdirSync(classDir)) {
    if (!/^tty(USB|ACM)\d+$/.test(name)) continue;
    let dir: string;
    try {
      dir = realpathSync(path.join(classDir, name, 'device'));
    } catch {
      continue;
    }
    for (let depth = 0; depth < 6 && dir !== path.dirname(dir); depth++, dir = path.dirname(dir)) {
      try {
        const vendorId = readFileSync(path.join(dir, 'idVendor'), 'utf8').trim().toLowerCase();
        const productId = readFileSync(path.join(dir, 'idProduct'), 'utf8').trim().toLowerCase();
        found.push({ path: path.join(devRoot, name), vendorId, productId });
        break;
      } catch {
        // not the USB device node yet: one level up
      }
    }
  }
  return found;
}

export interface ListedPort {
  readonly path: string;
  readonly vendorId?: string | undefined;
  readonly productId?: string | undefined;
}

export interface DiscoverOptions {
  /** serialport's SerialPort.list, or a stand-in in tests. */
  readonly list: () => Promise<readonly ListedPort[]>;
  readonly sysRoot?: string;
  readonly devRoot?: string;
}

export async function discoverPorts(opts: DiscoverOptions): Promise<Discovery> {
  const pick = (ports: readonly ListedPort[]): FoundPort[] =>
    ports.flatMap((p) => {
      const bridge = matchBridge(p.vendorId, p.productId);
      return bridge ? [{ path: p.path, vendorId: (p.vendorId ?? '').toLowerCase(), productId: (p.productId ?? '').toLowerCase(), bridge: bridge.name }] : [];
    });
  let note: string;
  try {
    return { ports: pick(await opts.list()), method: 'udev' };
  } catch (err) {
    note = `serialport list failed (${(err as Error).message}${(err as NodeJS.ErrnoException).code === 'ENOENT' ? ': udevadm is not installed' : ''})`;
  }
  try {
    return { ports: pick(listFromSysfs(opts.sysRoot, opts.devRoot)), method: 'sysfs', note };
  } catch (err) {
    return { ports: [], method: 'none', note: `${note}; /sys/class/tty cannot be read either (${(err as Error).message})` };
  }
}

// Prometheus metrics of the serial links, registered on the gateway's registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface SerialMetrics {
  readonly frames: Counter<'direction'>;
  readonly corrupt: Counter<'reason'>;
  readonly dropped: Counter<'reason'>;
  readonly logLines: Counter;
  readonly opens: Counter<'result'>;
  readonly flowStalls: Counter;
  readonly boards: Gauge;
}

export function createSerialMetrics(registry: Registry, boardsUp: () => number): SerialMetrics {
  const registers = [registry];
  return {
    frames: new Counter({ name: 'chargebridge_serial_messages_total', help: 'OCPP messages carried over serial links', labelNames: ['direction'], registers }),
    corrupt: new Counter({
      name: 'chargebridge_serial_corrupt_frames_total',
      help: 'Frame lines dropped as corrupt (crc, syntax, length, overflow, sequence, too-big)',
      labelNames: ['reason'],
      registers,
    }),
    dropped: new Counter({ name: 'chargebridge_serial_dropped_messages_total', help: 'Intact messages not carried (no session, too big, unencodable)', labelNames: ['reason'], registers }),
    logLines: new Counter({ name: 'chargebridge_serial_device_log_lines_total', help: 'Debug text lines received from boards', registers }),
    opens: new Counter({ name: 'chargebridge_serial_port_opens_total', help: 'Serial port open attempts', labelNames: ['result'], registers }),
    flowStalls: new Counter({ name: 'chargebridge_serial_flow_stalls_total', help: 'Times a board stopped acknowledging and its window was reset', registers }),
    boards: new Gauge({
      name: 'chargebridge_serial_boards_up',
      help: 'Boards with a serial link up',
      registers,
      collect() {
        this.set(boardsUp());
      },
    }),
  };
}

// A flashCharge-like station over a real WebSocket: sends what the firmware sends and answers the central
// system's calls the way a test decides (accept, reject, or stay silent).
import { connectStation, type StationClient } from '../../support/station-client.js';

export type Answer = { status: string } | 'silent';

export interface BenchStation {
  readonly client: StationClient;
  /** How the station answers each action the gateway or central system sends it; default {}. */
  readonly answers: Map<string, Answer>;
  boot(): Promise<unknown[]>;
  status(connectorId: number, status: string): Promise<unknown[]>;
  startTransaction(idTag: string, meterStart?: number): Promise<number>;
  stopTransaction(transactionId: number, meterStop: number, reason?: string): Promise<unknown[]>;
  meterValues(transactionId: number | undefined, values: Record<string, [string, string]>): Promise<unknown[]>;
  vehicleInfo(data: Record<string, unknown>, messageId?: string): Promise<unknown[]>;
  /** CALLs the station received, as [action, payload]. */
  calls(action: string): unknown[];
}

export async function connectBenchStation(url: string): Promise<BenchStation> {
  const client = await connectStation(url, { autoAnswer: false });
  const answers = new Map<string, Answer>();
  client.ws.on('message', (data) => {
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return;
    }
    if (!Array.isArray(frame) || frame[0] !== 2) return;
    const answer = answers.get(String(frame[2])) ?? {};
    if (answer === 'silent') return;
    client.ws.send(JSON.stringify([3, frame[1], answer]));
  });
  const now = (): string => new Date().toISOString();
  const ok = async (action: string, payload: unknown): Promise<unknown[]> => {
    const reply = await client.call(action, payload);
    if (reply[0] !== 3) throw new Error(`${action} answered ${JSON.stringify(reply)}`);
    return reply;
  };
  return {
    client,
    answers,
    boot: () => ok('BootNotification', { chargePointVendor: 'Rivot Motors', chargePointModel: 'Rivot Charger', firmwareVersion: '2.4.0' }),
    status: (connectorId, status) => ok('StatusNotification', { connectorId, status, errorCode: 'NoError', timestamp: now() }),
    async startTransaction(idTag, meterStart = 0) {
      const reply = await ok('StartTransaction', { connectorId: 1, idTag, meterStart, timestamp: now() });
      const id = (reply[2] as { transactionId?: unknown }).transactionId;
      if (typeof id !== 'number') throw new Error(`StartTransaction answered without a transactionId: ${JSON.stringify(reply)}`);
      return id;
    },
    stopTransaction: (transactionId, meterStop, reason = 'Remote') => ok('StopTransaction', { transactionId, meterStop, timestamp: now(), reason }),
    meterValues: (transactionId, values) =>
      ok('MeterValues', {
        connectorId: 1,
        ...(transactionId !== undefined ? { transactionId } : {}),
        meterValue: [{ timestamp: now(), sampledValue: Object.entries(values).map(([measurand, [value, unit]]) => ({ value, measurand, unit })) }],
      }),
    vehicleInfo: (data, messageId = 'VehicleInfo') => ok('DataTransfer', { vendorId: 'RivotMotors', messageId, data: JSON.stringify(data) }),
    calls: (action) => client.received.filter((f) => f[0] === 2 && f[2] === action).map((f) => f[3]),
  };
}

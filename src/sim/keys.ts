// The station's configuration key store: the standard OCPP 1.6 keys a MicroOcpp charger exposes, with the
// flashCharge firmware's values as defaults. Defaults are shared; a station stores only the keys it changed.

export type KeyType = 'int' | 'bool' | 'csl' | 'string';

interface KeyDef {
  readonly type: KeyType;
  readonly value: string;
  readonly readonly?: boolean;
  /** For csl keys: the values an entry may take. */
  readonly allowed?: readonly string[];
  readonly min?: number;
  /** For string keys: length bounds. */
  readonly length?: readonly [number, number];
  /** Never read back (security whitepaper: AuthorizationKey is write-only). */
  readonly writeOnly?: boolean;
}

export const MEASURANDS = [
  'Energy.Active.Import.Register', 'Power.Active.Import', 'Voltage', 'Current.Import', 'Current.Offered', 'SoC', 'Temperature',
] as const;
export type Measurand = (typeof MEASURANDS)[number];

const DEFS: Readonly<Record<string, KeyDef>> = {
  AllowOfflineTxForUnknownId: { type: 'bool', value: 'false' },
  AuthorizationCacheEnabled: { type: 'bool', value: 'false' },
  // The HTTP Basic password (security whitepaper profile 1/2); MicroOcpp reconnects with a new one at once.
  AuthorizationKey: { type: 'string', value: '', length: [16, 40], writeOnly: true },
  ChargeProfileMaxStackLevel: { type: 'int', value: '8', readonly: true },
  ChargingScheduleAllowedChargingRateUnit: { type: 'csl', value: 'Current,Power', readonly: true },
  ChargingScheduleMaxPeriods: { type: 'int', value: '24', readonly: true },
  AuthorizeRemoteTxRequests: { type: 'bool', value: 'false' },
  ClockAlignedDataInterval: { type: 'int', value: '0', min: 0 },
  ConnectionTimeOut: { type: 'int', value: '30', min: 0 },
  ConnectorPhaseRotation: { type: 'csl', value: 'NotApplicable' },
  GetConfigurationMaxKeys: { type: 'int', value: '30', readonly: true },
  HeartbeatInterval: { type: 'int', value: '60', min: 0 },
  LocalAuthListEnabled: { type: 'bool', value: 'true' },
  LocalAuthListMaxLength: { type: 'int', value: '48', readonly: true },
  LocalAuthorizeOffline: { type: 'bool', value: 'true' },
  LocalPreAuthorize: { type: 'bool', value: 'false' },
  MeterValuesAlignedData: { type: 'csl', value: '', allowed: MEASURANDS },
  MeterValuesSampledData: { type: 'csl', value: MEASURANDS.join(','), allowed: MEASURANDS },
  MeterValueSampleInterval: { type: 'int', value: '5', min: 0 },
  MaxChargingProfilesInstalled: { type: 'int', value: '10', readonly: true },
  NumberOfConnectors: { type: 'int', value: '1', readonly: true },
  ResetRetries: { type: 'int', value: '2', min: 0 },
  SendLocalListMaxLength: { type: 'int', value: '48', readonly: true },
  StopTransactionOnEVSideDisconnect: { type: 'bool', value: 'true' },
  StopTransactionOnInvalidId: { type: 'bool', value: 'true' },
  StopTxnAlignedData: { type: 'csl', value: '', allowed: MEASURANDS },
  StopTxnSampledData: { type: 'csl', value: '', allowed: MEASURANDS },
  // MicroOcpp 1.2 registers these profiles' operations (firmware management is left to the firmware's OTA).
  SupportedFeatureProfiles: { type: 'csl', value: 'Core,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger', readonly: true },
  TransactionMessageAttempts: { type: 'int', value: '3', min: 1 },
  TransactionMessageRetryInterval: { type: 'int', value: '60', min: 0 },
  UnlockConnectorOnEVSideDisconnect: { type: 'bool', value: 'true' },
  WebSocketPingInterval: { type: 'int', value: '0', min: 0 },
};

export const STANDARD_KEYS: readonly string[] = Object.keys(DEFS).filter((k) => !DEFS[k]!.writeOnly);

export type ChangeStatus = 'Accepted' | 'Rejected' | 'NotSupported';

export interface KeyValue {
  readonly key: string;
  readonly readonly: boolean;
  /** Absent for a write-only key. */
  readonly value?: string;
}

/** Why `value` is not acceptable for `key`, or undefined when it is. */
export function checkValue(key: string, value: string): string | undefined {
  const def = DEFS[key];
  if (!def) return 'unknown key';
  switch (def.type) {
    case 'int':
      if (!/^\d+$/.test(value)) return 'not a non-negative integer';
      if (def.min !== undefined && Number(value) < def.min) return `below ${def.min}`;
      return undefined;
    case 'bool':
      return /^(true|false)$/i.test(value) ? undefined : 'not true/false';
    case 'csl':
      if (def.allowed && value !== '') {
        const bad = value.split(',').map((s) => s.trim()).find((s) => !def.allowed!.includes(s));
        if (bad !== undefined) return `unsupported entry "${bad}"`;
      }
      return undefined;
    default:
      if (def.length && (value.length < def.length[0] || value.length > def.length[1])) return `not ${def.length[0]}–${def.length[1]} characters`;
      return undefined;
  }
}

export class KeyStore {
  /** Only keys that differ from the defaults; undefined while there are none (the common case at scale). */
  #overrides: Map<string, string> | undefined;

  constructor(
    initial?: Readonly<Record<string, string>>,
    readonly connectors = 1,
  ) {
    this.revert(initial);
  }

  /** Back to the defaults and `initial`, as if every change since had never happened. */
  revert(initial?: Readonly<Record<string, string>>): void {
    this.#overrides = undefined;
    for (const [k, v] of Object.entries(initial ?? {})) {
      if (checkValue(k, v) === undefined) this.#set(k, v);
    }
  }

  #set(key: string, value: string): void {
    if (DEFS[key]?.value === value) this.#overrides?.delete(key);
    else (this.#overrides ??= new Map()).set(key, value);
  }

  get(key: string): string | undefined {
    if (key === 'NumberOfConnectors') return String(this.connectors);
    return this.#overrides?.get(key) ?? DEFS[key]?.value;
  }

  int(key: string): number {
    return Number(this.get(key) ?? 0);
  }

  bool(key: string): boolean {
    return (this.get(key) ?? '').toLowerCase() === 'true';
  }

  list(key: string): string[] {
    const v = this.get(key) ?? '';
    return v === '' ? [] : v.split(',').map((s) => s.trim());
  }

  change(key: string, value: string): ChangeStatus {
    const def = DEFS[key];
    if (!def) return 'NotSupported';
    if (def.readonly || checkValue(key, value) !== undefined) return 'Rejected';
    this.#set(key, def.type === 'bool' ? value.toLowerCase() : value);
    return 'Accepted';
  }

  /** Sets a key the station itself owns (e.g. HeartbeatInterval from BootNotification.conf). */
  internalSet(key: string, value: string): void {
    if (DEFS[key]) this.#set(key, value);
  }

  read(keys?: readonly string[]): { known: KeyValue[]; unknown: string[] } {
    const wanted = keys && keys.length > 0 ? keys : STANDARD_KEYS;
    const known: KeyValue[] = [];
    const unknown: string[] = [];
    for (const key of wanted) {
      const def = DEFS[key];
      if (!def) unknown.push(key);
      else known.push({ key, readonly: def.readonly ?? false, ...(def.writeOnly ? {} : { value: this.get(key) ?? '' }) });
    }
    return { known, unknown };
  }

  /** The changed keys, for persistence. */
  overrides(): Record<string, string> {
    return Object.fromEntries(this.#overrides ?? []);
  }
}

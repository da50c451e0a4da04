// Smart Charging profile of a simulated station (OCPP 1.6 §3.13, §5.16 SetChargingProfile, §5.5
// ClearChargingProfile, §5.7 GetCompositeSchedule), as MicroOcpp 1.2 keeps it: installed profiles per connector,
// checked against the station's limits, and a composite schedule: per purpose the highest stack level in effect,
// the transaction's TxProfile over TxDefaultProfile, capped by ChargePointMaxProfile.
import type { CallAnswer, CallHost } from './call-host.js';
import { iso } from './station-env.js';

interface Period {
  readonly startPeriod: number;
  readonly limit: number;
  readonly numberPhases?: number;
}
interface Profile {
  readonly chargingProfileId: number;
  readonly transactionId?: number;
  readonly stackLevel: number;
  readonly chargingProfilePurpose: 'ChargePointMaxProfile' | 'TxDefaultProfile' | 'TxProfile';
  readonly chargingProfileKind: 'Absolute' | 'Recurring' | 'Relative';
  readonly recurrencyKind?: 'Daily' | 'Weekly';
  readonly validFrom?: string;
  readonly validTo?: string;
  readonly chargingSchedule: {
    readonly duration?: number;
    readonly startSchedule?: string;
    readonly chargingRateUnit: 'A' | 'W';
    readonly chargingSchedulePeriod: readonly Period[];
  };
}
interface Installed {
  readonly connectorId: number;
  readonly profile: Profile;
}

/** Nominal figures to compare limits in A with limits in W (a 230 V, 3-phase AC supply unless a period says otherwise). */
const VOLTS = 230;
const PHASES = 3;

const installedBy = new WeakMap<readonly unknown[], Installed[]>();
function installedOf(host: CallHost): Installed[] {
  let l = installedBy.get(host.connectors);
  if (!l) installedBy.set(host.connectors, (l = []));
  return l;
}
const status = (s: string): CallAnswer => ({ kind: 'result', result: { status: s } });

export function setChargingProfile(host: CallHost, payload: Record<string, unknown>): CallAnswer {
  const connectorId = payload.connectorId as number;
  const p = payload.csChargingProfiles as Profile;
  const c = host.connectors[connectorId];
  if (!c) return status('Rejected');
  if (p.chargingProfilePurpose === 'ChargePointMaxProfile' && connectorId !== 0) return status('Rejected');
  if (p.chargingProfilePurpose === 'TxProfile') {
    // A TxProfile belongs to a running transaction on that connector (§5.16).
    if (connectorId === 0 || !c.tx || (p.transactionId !== undefined && p.transactionId !== c.tx.id)) return status('Rejected');
  }
  if (p.stackLevel > host.keys.int('ChargeProfileMaxStackLevel')) return status('Rejected');
  if (p.chargingSchedule.chargingSchedulePeriod.length > host.keys.int('ChargingScheduleMaxPeriods')) return status('Rejected');
  const list = installedOf(host);
  // Same id, or same stack level and purpose on the connector: the new profile replaces the old one (§3.13.2).
  const kept = list.filter(
    (x) => x.profile.chargingProfileId !== p.chargingProfileId &&
      !(x.connectorId === connectorId && x.profile.stackLevel === p.stackLevel && x.profile.chargingProfilePurpose === p.chargingProfilePurpose),
  );
  if (kept.length >= host.keys.int('MaxChargingProfilesInstalled')) return status('Rejected');
  list.splice(0, list.length, ...kept, { connectorId, profile: p });
  return status('Accepted');
}

export function clearChargingProfile(host: CallHost, payload: Record<string, unknown>): CallAnswer {
  const list = installedOf(host);
  const match = (x: Installed): boolean =>
    payload.id !== undefined
      ? x.profile.chargingProfileId === payload.id
      : (payload.connectorId === undefined || x.connectorId === payload.connectorId) &&
        (payload.chargingProfilePurpose === undefined || x.profile.chargingProfilePurpose === payload.chargingProfilePurpose) &&
        (payload.stackLevel === undefined || x.profile.stackLevel === payload.stackLevel);
  const kept = list.filter((x) => !match(x));
  if (kept.length === list.length) return status('Unknown');
  list.splice(0, list.length, ...kept);
  return status('Accepted');
}

export function getCompositeSchedule(host: CallHost, payload: Record<string, unknown>, now: number): CallAnswer {
  const connectorId = payload.connectorId as number;
  const c = host.connectors[connectorId];
  if (!c) return status('Rejected');
  const durationS = payload.duration as number;
  const unit = payload.chargingRateUnit === 'W' ? 'W' : 'A';
  const txStart = c.tx?.startedAt;
  const relevant = installedOf(host).filter((x) => {
    const purpose = x.profile.chargingProfilePurpose;
    if (purpose === 'ChargePointMaxProfile') return true;
    if (connectorId === 0) return false;
    if (purpose === 'TxProfile') return x.connectorId === connectorId && c.tx !== undefined;
    return x.connectorId === connectorId || x.connectorId === 0;
  });
  // Evaluate at every point where some profile may change its limit; merge equal neighbours.
  const cuts = new Set<number>([0]);
  for (const x of relevant) {
    const start = scheduleStart(x.profile, now, txStart);
    for (const per of x.profile.chargingSchedule.chargingSchedulePeriod) cuts.add(Math.round((start - now) / 1000) + per.startPeriod);
    if (x.profile.chargingSchedule.duration !== undefined) cuts.add(Math.round((start - now) / 1000) + x.profile.chargingSchedule.duration);
    for (const edge of [x.profile.validFrom, x.profile.validTo]) if (edge) cuts.add(Math.round((Date.parse(edge) - now) / 1000));
  }
  const periods: Period[] = [];
  let end = durationS;
  for (const offset of [...cuts].filter((o) => o >= 0 && o < durationS).sort((a, b) => a - b)) {
    const limit = limitAt(relevant, now + offset * 1000, now, txStart, unit, connectorId === 0);
    if (limit === undefined) {
      // The schedule ends where no profile limits the connector any more.
      end = offset;
      break;
    }
    if (periods.at(-1)?.limit !== limit) periods.push({ startPeriod: offset, limit });
  }
  if (periods.length === 0) return { kind: 'result', result: { status: 'Accepted', connectorId, scheduleStart: iso(now) } };
  return {
    kind: 'result',
    result: {
      status: 'Accepted',
      connectorId,
      scheduleStart: iso(now),
      chargingSchedule: { duration: end, startSchedule: iso(now), chargingRateUnit: unit, chargingSchedulePeriod: periods },
    },
  };
}

/** When the profile's schedule (its current occurrence, for a recurring one) starts, in station ms. */
function scheduleStart(p: Profile, now: number, txStart: number | undefined): number {
  const startSchedule = p.chargingSchedule.startSchedule ? Date.parse(p.chargingSchedule.startSchedule) : undefined;
  if (p.chargingProfileKind === 'Relative') return txStart ?? now;
  if (p.chargingProfileKind === 'Recurring' && startSchedule !== undefined) {
    const every = (p.recurrencyKind === 'Weekly' ? 7 : 1) * 86_400_000;
    return startSchedule + Math.floor((now - startSchedule) / every) * every;
  }
  return startSchedule ?? (p.validFrom ? Date.parse(p.validFrom) : now);
}

function periodLimit(p: Profile, at: number, now: number, txStart: number | undefined, unit: 'A' | 'W'): number | undefined {
  if ((p.validFrom && at < Date.parse(p.validFrom)) || (p.validTo && at >= Date.parse(p.validTo))) return undefined;
  const start = scheduleStart(p, now, txStart);
  const offsetS = (at - start) / 1000;
  const s = p.chargingSchedule;
  if (offsetS < 0 || (s.duration !== undefined && offsetS >= s.duration)) return undefined;
  const period = s.chargingSchedulePeriod.filter((x) => x.startPeriod <= offsetS).at(-1);
  if (!period) return undefined;
  if (s.chargingRateUnit === unit) return period.limit;
  const volts = VOLTS * (period.numberPhases ?? PHASES);
  return Math.round((unit === 'W' ? period.limit * volts : period.limit / volts) * 10) / 10;
}

function limitAt(relevant: readonly Installed[], at: number, now: number, txStart: number | undefined, unit: 'A' | 'W', stationWide: boolean): number | undefined {
  const top = (purpose: Profile['chargingProfilePurpose']): number | undefined => {
    let best: { level: number; limit: number } | undefined;
    for (const x of relevant) {
      if (x.profile.chargingProfilePurpose !== purpose) continue;
      const limit = periodLimit(x.profile, at, now, txStart, unit);
      if (limit !== undefined && (!best || x.profile.stackLevel > best.level)) best = { level: x.profile.stackLevel, limit };
    }
    return best?.limit;
  };
  const max = top('ChargePointMaxProfile');
  const tx = stationWide ? undefined : (top('TxProfile') ?? top('TxDefaultProfile'));
  if (max === undefined) return tx;
  return tx === undefined ? max : Math.min(max, tx);
}

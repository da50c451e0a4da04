// Fault injection on the relay (issue #14 part 1): rules per station, set by operators and test cases.
export { FaultRegistry, MAX_RULES_PER_STATION, type FaultBinding, type SetFaultResult } from './registry.js';
export { FAULT_HOLD_BYTES, StationFaults, type FaultSink } from './station-faults.js';
export { FAULT_KINDS, FaultRuleError, parseFaultRule, type FaultKind, type FaultRuleView, type FaultSpec } from './rule.js';

import type { SetFaultResult } from './registry.js';
import type { FaultRuleView } from './rule.js';

/** What operators and test runs may do with fault rules (FaultRegistry implements it). */
export interface FaultsPort {
  set(chargeBoxId: string, raw: unknown, setBy: string): SetFaultResult;
  list(chargeBoxId: string): FaultRuleView[];
  remove(chargeBoxId: string, ruleId: string): boolean;
  clear(chargeBoxId: string): number;
}

/** FaultsPort as REST and Socket.IO use it: in cluster mode the station's rules may live on another node. */
export type FaultsAccess = { [K in keyof FaultsPort]: (...args: Parameters<FaultsPort[K]>) => Promise<ReturnType<FaultsPort[K]>> };

/** Single-process mode: the relay's own rules, unchanged. */
export function localFaultsAccess(port: FaultsPort): FaultsAccess {
  return {
    list: async (id) => port.list(id),
    set: async (id, raw, setBy) => port.set(id, raw, setBy),
    remove: async (id, ruleId) => port.remove(id, ruleId),
    clear: async (id) => port.clear(id),
  };
}

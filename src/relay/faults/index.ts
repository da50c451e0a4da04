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

// Fault injection on the relay (issue #14 part 1): rules per station, set by operators and test cases.
export { FaultRegistry, MAX_RULES_PER_STATION, type FaultBinding, type SetFaultResult } from './registry.js';
export { FAULT_HOLD_BYTES, StationFaults, type FaultSink } from './station-faults.js';
export { FAULT_KINDS, FaultRuleError, parseFaultRule, type FaultKind, type FaultRuleView, type FaultSpec } from './rule.js';

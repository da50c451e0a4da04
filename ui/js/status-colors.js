// OCPP 1.6 connector status → a CSS class; the text is always shown too, colour is only a second cue.
const CLASSES = {
  Available: 'st-available',
  Preparing: 'st-preparing',
  Charging: 'st-charging',
  SuspendedEV: 'st-suspended',
  SuspendedEVSE: 'st-suspended',
  Finishing: 'st-finishing',
  Reserved: 'st-reserved',
  Unavailable: 'st-unavailable',
  Faulted: 'st-faulted',
};

export function statusClass(status) {
  return CLASSES[status] ?? 'st-unknown';
}

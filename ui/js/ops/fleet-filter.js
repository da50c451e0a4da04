// The fleet table's model, free of the DOM: one status per station, the filters, the sort and the counts by
// status. Pure functions over station-store entries, so they run the same in Node tests.

/** Status precedence when a station's connectors differ: the one an operator must see first wins. */
const PRECEDENCE = ['Faulted', 'Charging', 'SuspendedEV', 'SuspendedEVSE', 'Preparing', 'Finishing', 'Reserved', 'Unavailable', 'Available'];

/** One word per station: Offline, a connector status (most urgent first) or Unknown. */
export function stationStatus(st) {
  if (!st.online) return 'Offline';
  const statuses = new Set([...st.connectors.values()].filter((c) => c.connectorId > 0).map((c) => c.status));
  if (statuses.size === 0 && st.summary?.status) statuses.add(st.summary.status);
  for (const s of PRECEDENCE) if (statuses.has(s)) return s;
  const any = [...statuses][0];
  return any ?? 'Unknown';
}

/** The upstream link's state when the relay reported it, else 'local' for a station served locally. */
export function upstreamOf(st) {
  return st.upstreamState ?? (st.upstream === 'local' ? 'local' : undefined);
}

export function isCharging(st) {
  return st.openTx.length > 0 || [...st.connectors.values()].some((c) => c.status === 'Charging');
}

/** filter: { text, status, linkKind, upstream (open|connecting|closed|local), findings: 'any'|'yes'|'no', charging: 'any'|'yes'|'no' } ('' or 'any' = all). */
export function matches(st, filter) {
  const text = filter.text?.trim().toLowerCase();
  if (text && !st.id.toLowerCase().includes(text) && !(st.summary?.model ?? '').toLowerCase().includes(text)) return false;
  if (filter.status && filter.status !== 'any' && stationStatus(st) !== filter.status) return false;
  if (filter.linkKind && filter.linkKind !== 'any' && st.linkKind !== filter.linkKind) return false;
  if (filter.upstream && filter.upstream !== 'any' && upstreamOf(st) !== filter.upstream) return false;
  if (filter.findings === 'yes' && !(st.findings > 0)) return false;
  if (filter.findings === 'no' && st.findings > 0) return false;
  if (filter.charging === 'yes' && !isCharging(st)) return false;
  if (filter.charging === 'no' && isCharging(st)) return false;
  return true;
}

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const SORTS = {
  id: byId,
  status: (a, b) => PRECEDENCE_INDEX(stationStatus(a)) - PRECEDENCE_INDEX(stationStatus(b)) || byId(a, b),
  soc: (a, b) => (b.summary?.soc ?? -1) - (a.summary?.soc ?? -1) || byId(a, b),
  findings: (a, b) => (b.findings ?? 0) - (a.findings ?? 0) || byId(a, b),
  lastSeen: (a, b) => (b.lastSeen ?? '').localeCompare(a.lastSeen ?? '') || byId(a, b),
};
function PRECEDENCE_INDEX(status) {
  const i = PRECEDENCE.indexOf(status);
  return i === -1 ? PRECEDENCE.length + (status === 'Offline' ? 1 : 0) : i;
}
export const SORT_KEYS = Object.keys(SORTS);

/** The stations to show, in order, and the counts by status over all of them (before filtering). */
export function fleetView(stations, filter, sort = 'id') {
  const counts = new Map();
  const shown = [];
  for (const st of stations) {
    const status = stationStatus(st);
    counts.set(status, (counts.get(status) ?? 0) + 1);
    if (matches(st, filter)) shown.push(st);
  }
  shown.sort(SORTS[sort] ?? SORTS.id);
  return { shown, counts };
}

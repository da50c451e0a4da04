// Local Auth List Management profile of a simulated station (OCPP 1.6 §5.15 SendLocalList, §5.10 GetLocalListVersion),
// as MicroOcpp 1.2 keeps it: a versioned list of idTags with their idTagInfo, replaced whole (Full) or updated
// (Differential: an entry without idTagInfo is removed), bounded by LocalAuthListMaxLength / SendLocalListMaxLength.
import type { CallAnswer, CallHost } from './call-host.js';

interface LocalList {
  version: number;
  readonly tags: Map<string, Record<string, unknown>>;
}

/** One list per station, keyed by its connector array (the station's identity here; nothing to free by hand). */
const lists = new WeakMap<readonly unknown[], LocalList>();

function listOf(host: CallHost): LocalList {
  let l = lists.get(host.connectors);
  if (!l) lists.set(host.connectors, (l = { version: 0, tags: new Map() }));
  return l;
}

const answer = (result: Record<string, unknown>): CallAnswer => ({ kind: 'result', result });

export function sendLocalList(host: CallHost, payload: Record<string, unknown>): CallAnswer {
  if (!host.keys.bool('LocalAuthListEnabled')) return answer({ status: 'NotSupported' });
  const entries = (payload.localAuthorizationList ?? []) as { idTag: string; idTagInfo?: Record<string, unknown> }[];
  if (entries.length > host.keys.int('SendLocalListMaxLength')) return answer({ status: 'Failed' });
  const list = listOf(host);
  const version = payload.listVersion as number;
  const full = payload.updateType === 'Full';
  if (!full && version <= list.version) return answer({ status: 'VersionMismatch' });
  const next = full ? new Map<string, Record<string, unknown>>() : new Map(list.tags);
  for (const e of entries) {
    if (e.idTagInfo) next.set(e.idTag, e.idTagInfo);
    else next.delete(e.idTag);
  }
  if (next.size > host.keys.int('LocalAuthListMaxLength')) return answer({ status: 'Failed' });
  list.tags.clear();
  for (const [k, v] of next) list.tags.set(k, v);
  list.version = version;
  return answer({ status: 'Accepted' });
}

/** 0 for an empty list (§5.10), -1 when the list is switched off. */
export function getLocalListVersion(host: CallHost): CallAnswer {
  if (!host.keys.bool('LocalAuthListEnabled')) return answer({ listVersion: -1 });
  const list = listOf(host);
  return answer({ listVersion: list.tags.size === 0 ? 0 : list.version });
}

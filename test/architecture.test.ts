// The dependency rule, checked: imports point down only, and modules on one level meet through the bus.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const src = path.resolve(import.meta.dirname, '../src');

/** Which top-level modules each folder of src/ may import (besides itself). */
const allowed: Record<string, readonly string[]> = {
  ocpp: [],
  events: ['ocpp', 'config-env'],
  links: ['events', 'ocpp', 'errors', 'config-env'],
  serial: ['links', 'events', 'ocpp', 'errors', 'config-env'],
  sim: ['links', 'events', 'ocpp', 'errors', 'config-env'],
  upstream: ['ocpp', 'errors', 'events'],
  relay: ['links', 'upstream', 'events', 'ocpp', 'errors'],
  cdc: ['events', 'ocpp', 'errors', 'config-env'],
  log: ['events', 'ocpp', 'errors'],
  metrics: ['events', 'ocpp'],
  conformance: ['events'],
  webhooks: ['events', 'errors', 'config-env'],
  mirror: ['relay', 'events', 'ocpp', 'errors', 'config-env'],
  push: ['relay', 'events', 'ocpp', 'errors', 'config', 'config-env'],
  'charger-tests': ['relay', 'upstream', 'sim', 'events', 'ocpp', 'errors'],
  api: ['relay', 'log', 'events', 'ocpp', 'errors', 'upstream', 'charger-tests', 'conformance'],
  // Cluster mode wires the relay, the binlog reader and the event model across nodes; nothing below imports it.
  cluster: ['relay', 'cdc', 'links', 'log', 'events', 'errors', 'config-env'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('module dependencies', () => {
  it('every folder of src/ imports only the modules below it', () => {
    const violations: string[] = [];
    for (const [folder, may] of Object.entries(allowed)) {
      for (const file of files(path.join(src, folder))) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(/from '(\.[^']+)'/g)) {
          const target = path.relative(src, path.resolve(path.dirname(file), m[1] as string)).split(path.sep)[0]?.replace(/\.js$/, '') ?? '';
          if (target !== folder && !may.includes(target)) violations.push(`${path.relative(src, file)} imports ${target}`);
        }
      }
    }
    expect(violations).toEqual([]);
  });

  it('covers every folder of src/', () => {
    const folders = readdirSync(src).filter((n) => statSync(path.join(src, n)).isDirectory());
    expect(folders.sort()).toEqual(Object.keys(allowed).sort());
  });
});

// Push figures on the gateway's Prometheus registry, read from the push server's own stats when scraped.
import { Gauge, type Registry } from 'prom-client';
import type { PushStats } from './stats.js';

export function registerPushMetrics(registry: Registry, stats: () => PushStats): void {
  const gauge = (name: string, help: string, labelNames: readonly string[], read: (s: PushStats, set: (labels: Record<string, string>, v: number) => void) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        read(stats(), (labels, v) => this.set(labels, v));
      },
    });
  };
  gauge('chargebridge_push_clients', 'Connected Socket.IO clients by role', ['role'], (s, set) => {
    set({ role: 'operator' }, s.clients.operators);
    set({ role: 'viewer' }, s.clients.viewers);
  });
  gauge('chargebridge_push_pushed_total', 'Items pushed to clients since start, by kind', ['kind'], (s, set) => {
    for (const [kind, v] of Object.entries(s.pushed)) set({ kind }, v);
  });
  gauge('chargebridge_push_dropped_total', 'Items not delivered to slow clients since start, by kind', ['kind'], (s, set) => {
    for (const [kind, v] of Object.entries(s.dropped)) set({ kind }, v);
  });
  gauge('chargebridge_push_disconnects_total', 'Clients the server disconnected, by reason', ['reason'], (s, set) => {
    for (const [reason, v] of Object.entries(s.disconnects)) set({ reason }, v);
  });
  gauge('chargebridge_push_auth_refusals_total', 'Refused Socket.IO handshakes, by code', ['code'], (s, set) => {
    for (const [code, v] of Object.entries(s.authRefusals)) set({ code }, v ?? 0);
  });
}

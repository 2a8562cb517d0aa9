/**
 * Prometheus metrics on a private registry (never the global one, so two daemons in one process, as in
 * tests, do not collide). Pool gauges are computed from the engine's inventory at scrape time.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Capacity } from '../ipam/index.js';

/** The daemon's metrics. */
export interface DaemonMetrics {
  readonly registry: Registry;
  readonly allocations: Counter;
  readonly releases: Counter;
  readonly migrations: Counter;
  readonly errors: Counter<'code'>;
  readonly requests: Histogram<'method' | 'route' | 'status'>;
}

const POOL_GAUGES = [
  ['capacity', 'Addresses in the pool'],
  ['allocated', 'Addresses held by lease endpoints'],
  ['reserved', 'Addresses held for open bids'],
  ['quarantined', 'Released addresses cooling down'],
  ['available', 'Addresses free for a new lease'],
] as const;

/** Creates the metrics; `pools` is read on every scrape. */
export function createMetrics(pools: () => readonly Capacity[]): DaemonMetrics {
  const registry = new Registry();
  for (const [field, help] of POOL_GAUGES) {
    new Gauge({
      name: `akash_ip_pool_${field}`,
      help,
      labelNames: ['pool', 'family'],
      registers: [registry],
      collect() {
        this.reset();
        for (const pool of pools()) this.set({ pool: pool.pool, family: pool.family }, Number(pool[field]));
      },
    });
  }
  return {
    registry,
    allocations: new Counter({
      name: 'akash_ip_allocations_total',
      help: 'Addresses allocated to lease endpoints',
      registers: [registry],
    }),
    releases: new Counter({
      name: 'akash_ip_releases_total',
      help: 'Addresses released into quarantine',
      registers: [registry],
    }),
    migrations: new Counter({
      name: 'akash_ip_migrations_total',
      help: 'Endpoints moved to another deployment',
      registers: [registry],
    }),
    errors: new Counter({
      name: 'akash_ip_errors_total',
      help: 'Requests refused or failed, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
    requests: new Histogram({
      name: 'akash_ip_http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}

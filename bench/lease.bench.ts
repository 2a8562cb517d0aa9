/**
 * Lease engine on an on-disk SQLite store: 10k deploys (one endpoint, two ports) into a /16, then 10k
 * dual-stack deploys (an IPv4 and an IPv6 address per endpoint) in the same run, lease-status latency across
 * each, and a restart over 100k leases (open + rebuild) that must write nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Result } from '../src/errors/index.js';
import type { PoolSpec } from '../src/ipam/index.js';
import {
  type AuditEntry,
  type AuditEvent,
  createLeaseEngine,
  type DeployOptions,
  type LeaseStore,
  type StoreChange,
} from '../src/lease/index.js';
import { groupSpecOf, leaseOf, manifestGroup, PROVIDER, requiring } from '../src/lease/testing.js';
import { createMemoryStore, openSqliteStore } from '../src/store/index.js';
import { median, quantile, type Suite } from './harness.js';

const DEPLOYS = 10_000;
const RESTART_LEASES = 100_000;
const RESTARTS = 3;
const group = manifestGroup('dcloud', {
  web: [
    { port: 3000, as: 80, ip: 'web' },
    { port: 3443, as: 443, ip: 'web' },
  ],
});

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Fills `path` with `count` deployed leases: computed in memory, written in one transaction. */
async function buildStore(path: string, count: number, pool: string): Promise<void> {
  const memory = createMemoryStore();
  const engine = unwrap(
    await createLeaseEngine({
      store: memory,
      provider: PROVIDER,
      pools: [{ name: 'default', addresses: [pool] }],
    }),
  );
  for (let i = 0; i < count; i++) unwrap(await engine.deploy(leaseOf(`akash1t${i}`, i + 1), group));
  const snapshot = unwrap(await memory.load());
  const audit: AuditEntry[] = [];
  for (;;) {
    const page: readonly AuditEvent[] = unwrap(
      await memory.queryAudit({ afterId: audit.length, limit: 10_000 }),
    );
    audit.push(...page.map(({ id: _, ...entry }) => entry));
    if (page.length < 10_000) break;
  }
  const change: StoreChange = {
    leases: snapshot.leases,
    allocations: snapshot.allocations,
    removedAllocations: [],
    quarantine: snapshot.quarantine,
    removedQuarantine: [],
    reservations: snapshot.reservations,
    removedReservations: [],
    audit,
  };
  const store = unwrap(openSqliteStore({ path }));
  unwrap(await store.commit(change));
  await store.close();
}

/**
 * {@link DEPLOYS} deploys into a fresh SQLite file, one commit each, then lease-status across them; `label`
 * tells the reports of the IPv4 and the dual-stack run apart.
 */
async function deployRun(
  report: Parameters<Suite>[0],
  path: string,
  label: string,
  pools: readonly PoolSpec[],
  options: DeployOptions,
): Promise<void> {
  const store: LeaseStore = unwrap(openSqliteStore({ path }));
  const engine = unwrap(await createLeaseEngine({ store, provider: PROVIDER, pools }));
  const leases = Array.from({ length: DEPLOYS }, (_, i) => leaseOf(`akash1t${i}`, i + 1));
  const deployTimes: number[] = [];
  const total = process.hrtime.bigint();
  for (const lease of leases) {
    const start = process.hrtime.bigint();
    unwrap(await engine.deploy(lease, group, options));
    deployTimes.push(ms(start));
  }
  report({
    name: `deploy ${DEPLOYS} ${label}leases (SQLite, synchronous=FULL)`,
    value: ms(total),
    unit: 'ms',
  });
  report({ name: `deploy ${label}p50`, value: median(deployTimes), unit: 'ms' });
  report({ name: `deploy ${label}p99`, value: quantile(deployTimes, 0.99), unit: 'ms' });

  const statusTimes: number[] = [];
  for (let round = 0; round < 3; round++) {
    for (const lease of leases) {
      const start = process.hrtime.bigint();
      unwrap(engine.status(lease));
      statusTimes.push(ms(start));
    }
  }
  report({
    name: `lease-status p50 across ${DEPLOYS} ${label}leases`,
    value: median(statusTimes),
    unit: 'ms',
  });
  report({
    name: `lease-status p99 across ${DEPLOYS} ${label}leases`,
    value: quantile(statusTimes, 0.99),
    unit: 'ms',
  });
  await store.close();
}

const suite: Suite = async (report) => {
  const dir = mkdtempSync(join(tmpdir(), 'akash-ip-bench-'));
  try {
    await deployRun(
      report,
      join(dir, 'deploy.db'),
      '',
      [{ name: 'default', addresses: ['127.1.0.0/16'] }],
      {},
    );
    await deployRun(
      report,
      join(dir, 'deploy-dual.db'),
      'dual-stack ',
      [{ name: 'dual', addresses: ['127.1.0.0/16', '2001:db8::/112'] }],
      { groupSpec: requiring(groupSpecOf(group), { 'ip-lease-ipv6': 'true' }) },
    );

    const path = join(dir, 'restart.db');
    await buildStore(path, RESTART_LEASES, '127.64.0.0/14');
    const restartTimes: number[] = [];
    let writes = 0;
    let active = 0;
    for (let run = 0; run < RESTARTS; run++) {
      const start = process.hrtime.bigint();
      const reopened = unwrap(openSqliteStore({ path }));
      const restarted = unwrap(
        await createLeaseEngine({
          store: reopened,
          provider: PROVIDER,
          pools: [{ name: 'default', addresses: ['127.64.0.0/14'] }],
        }),
      );
      restartTimes.push(ms(start));
      writes += reopened.totalChanges();
      active = Number(restarted.inventory().inUse);
      await reopened.close();
    }
    if (active !== RESTART_LEASES)
      throw new Error(`restart saw ${active} leases, expected ${RESTART_LEASES}`);
    report({
      name: `restart with ${RESTART_LEASES} leases (open + rebuild), median`,
      value: median(restartTimes),
      unit: 'ms',
    });
    report({ name: 'restart row writes', value: writes, unit: 'rows' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export default suite;

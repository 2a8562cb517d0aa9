/**
 * The crash test's workload: step `n` of seed `s` is one engine mutation chosen only from (s, n) and
 * the engine's state, so a model that replays the same steps reaches the same state.
 */

import { compareDseq } from '../akash-id/index.js';
import type { PoolSpec } from '../ipam/index.js';
import type { LeaseEngine, LeaseId } from '../lease/index.js';
import { groupSpecWithIps, leaseOf, manifestGroup } from '../lease/testing.js';
import { pick, stepRandom } from './crash-harness.js';

export const CRASH_POOLS: readonly PoolSpec[] = [{ name: 'default', addresses: ['198.51.100.0/26'] }];
export const CRASH_QUARANTINE_MS = 30_000;
const OWNERS = ['akash1ann', 'akash1ben', 'akash1cai'];
const NAMES = ['web', 'db', 'api'];

/** The clock at step `n`: one second per step. */
export function clockAt(step: number): number {
  return 1_700_000_000_000 + step * 1000;
}

function group(next: () => number) {
  const names = NAMES.filter(() => next() < 0.5);
  const used = names.length === 0 ? [pick(next, NAMES)] : names;
  const services: Record<string, { port: number; as?: number; proto?: 'TCP' | 'UDP'; ip: string }[]> = {};
  for (const name of used) {
    const ports = 1 + Math.floor(next() * 3);
    services[`svc-${name}`] = Array.from({ length: ports }, (_, index) => ({
      port: 3000 + Math.floor(next() * 3),
      as: 80 + index,
      proto: next() < 0.8 ? 'TCP' : 'UDP',
      ip: name,
    }));
  }
  return manifestGroup('dcloud', services);
}

/** Runs step `step`; returns a one-word description. Failures that are values are part of the workload. */
export async function runStep(engine: LeaseEngine, seed: number, step: number): Promise<string> {
  const next = stepRandom(seed, step);
  const roll = next();
  const active = engine
    .leases({ state: 'active' })
    .map((view) => view.id)
    .sort((a, b) => compareDseq(a.dseq, b.dseq));
  const some = (): LeaseId | undefined => (active.length === 0 ? undefined : pick(next, active));
  if (roll < 0.35 || active.length === 0) {
    await engine.deploy(leaseOf(pick(next, OWNERS), step + 1), group(next));
    return 'deploy';
  }
  if (roll < 0.55) {
    const lease = some();
    if (lease !== undefined) await engine.deploy(lease, group(next));
    return 'update';
  }
  if (roll < 0.67) {
    const destination = some();
    if (destination === undefined) return 'migrate';
    const declared = [
      ...new Set(engine.lease(destination)?.declarations.map((declaration) => declaration.endpoint) ?? []),
    ];
    const endpoints = declared.filter(() => next() < 0.6);
    await engine.migrate({
      owner: destination.owner,
      destination: { dseq: destination.dseq, gseq: destination.gseq },
      endpoints: endpoints.length === 0 ? declared : endpoints,
    });
    return 'migrate';
  }
  if (roll < 0.85) {
    const lease = some();
    if (lease !== undefined) await engine.close(lease);
    return 'close';
  }
  const order = (back: number) => ({
    owner: OWNERS[(step - back) % OWNERS.length]!,
    dseq: String(1_000_000 + step - back),
    gseq: 1,
    oseq: 1,
  });
  if (roll < 0.93) {
    await engine.reserve(order(0), groupSpecWithIps([1, 2, 3].slice(0, 1 + Math.floor(next() * 3))));
    return 'reserve';
  }
  if (roll < 0.97) {
    await engine.unreserve(order(1 + Math.floor(next() * 5)));
    return 'unreserve';
  }
  await engine.maintain();
  return 'maintain';
}

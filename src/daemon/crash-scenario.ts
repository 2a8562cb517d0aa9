/**
 * The daemon crash test's workload: step `n` of seed `s` is one call of the provider service (a manifest
 * deploying a new lease, a manifest updating one, a close, a migration), chosen only from (s, n) and the
 * state the service rebuilt, so a worker restarted after a kill carries on the same run.
 */
import type { AppError, Result } from '../errors/index.js';
import { newClaims } from '../identity/index.js';
import { createLeaseEngine, type LeaseId, type LeaseStore } from '../lease/index.js';
import type { Sdl } from '../sdl/index.js';
import { pick, stepRandom } from '../store/crash-harness.js';
import { StaticChain } from './chain.js';
import { account, exposeSdl, ipSdl } from './fixtures.js';
import { loadManifests } from './manifest-store.js';
import { createMetrics } from './metrics.js';
import { ProviderService } from './service.js';

export const CRASH_PROVIDER = account(0x9a9a).address;
export const CRASH_POOLS = [{ name: 'default', addresses: ['198.51.100.0/28'] }];
export const CRASH_QUARANTINE_MS = 30_000;
const OWNERS = [account(0xa11ce), account(0xb0b), account(0xca1)].map((owner) => owner.address);

/** Manifests of one group `dcloud` whose IP endpoints and ports differ, so an update moves addresses. */
const SDLS: readonly Sdl[] = [
  ipSdl('web'),
  ipSdl('web', [
    [80, 80],
    [443, 443],
  ]),
  exposeSdl([
    { port: 80, as: 80, ip: 'web' },
    { port: 5432, as: 5432, ip: 'db' },
  ]),
  ipSdl('api', [[8080, 8080]]),
];

/** The clock at step `n`: one second per step. */
export function clockAt(step: number): number {
  return 1_760_000_000_000 + step * 1000;
}

/** A provider service over `store`, rebuilt from it as the daemon does at start-up. */
export async function crashService(
  store: LeaseStore,
  now: () => number,
): Promise<Result<{ readonly service: ProviderService; readonly chain: StaticChain }, AppError>> {
  const engine = await createLeaseEngine({
    store,
    provider: CRASH_PROVIDER,
    pools: CRASH_POOLS,
    quarantineMs: CRASH_QUARANTINE_MS,
    now,
  });
  if (!engine.ok) return engine;
  const deployed = await loadManifests(store);
  if (!deployed.ok) return deployed;
  const chain = new StaticChain([]);
  const service = new ProviderService({
    provider: CRASH_PROVIDER,
    engine: engine.value,
    deployed: deployed.value,
    chain,
    logger: { log: () => undefined },
    metrics: createMetrics(() => engine.value.inventory().pools),
    now,
    closeOnChain: (id) => {
      chain.remove(id);
      return Promise.resolve({ ok: true, value: undefined });
    },
  });
  return { ok: true, value: { service, chain } };
}

/**
 * Runs step `step`. Every manifest declares IP endpoints, so a lease is active in the engine exactly when
 * its manifest is recorded. Refusals (a full pool, say) are part of the workload.
 */
export async function runDaemonStep(
  service: ProviderService,
  chain: StaticChain,
  seed: number,
  step: number,
): Promise<string> {
  const next = stepRandom(seed, step);
  const roll = next();
  const active = service.engine
    .leases({ state: 'active' })
    .map((view) => view.id)
    .sort((a, b) => Number(a.dseq) - Number(b.dseq));
  const claimsOf = (owner: string) => newClaims(owner, { now: Math.floor(clockAt(step) / 1000) });
  const send = async (id: LeaseId): Promise<void> => {
    const sdl = pick(next, SDLS);
    // the chain is the worker's memory: every manifest registers what its deployment ordered first
    chain.register({ id, hash: sdl.manifestVersion, spec: sdl.groups[0]! });
    await service.sendManifest(claimsOf(id.owner), id.dseq, sdl.manifest);
  };
  if (roll < 0.35 || active.length === 0) {
    await send({
      owner: pick(next, OWNERS),
      dseq: String(step + 1),
      gseq: 1,
      oseq: 1,
      provider: CRASH_PROVIDER,
    });
    return 'deploy';
  }
  const lease = pick(next, active);
  if (roll < 0.6) {
    await send(lease);
    return 'update';
  }
  if (roll < 0.9) {
    await service.closeLease(claimsOf(lease.owner), lease);
    return 'close';
  }
  await service.migrate(claimsOf(lease.owner), {
    endpoints_to_migrate: [pick(next, ['web', 'db', 'api'])],
    destination_dseq: lease.dseq,
    destination_gseq: lease.gseq,
  });
  return 'migrate';
}

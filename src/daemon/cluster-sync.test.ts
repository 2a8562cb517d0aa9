import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ok, type Result } from '../errors/index.js';
import {
  createLeaseEngine,
  type LeaseEngine,
  type LeaseId,
  leaseKey,
  type RealizedLease,
  type Realizer,
  type WriteCounts,
} from '../lease/index.js';
import { leaseOf, manifestGroup, PROVIDER } from '../lease/testing.js';
import { createMemoryStore } from '../store/index.js';
import { ClusterSync } from './cluster-sync.js';
import { memoryLogger } from './logger.js';
import { unwrap } from './testing.js';

const NO_WRITES: WriteCounts = { created: 0, updated: 0, deleted: 0, unchanged: 0 };

/** A realizer whose lease writes wait until the test lets them finish. */
function heldRealizer() {
  const held: (() => void)[] = [];
  let started = () => {};
  const write = (): Promise<Result<WriteCounts>> =>
    new Promise((resolve) => {
      held.push(() => resolve(ok(NO_WRITES)));
      started();
    });
  const backend: Realizer = {
    prepare: async () => ok(undefined),
    syncPools: async () => ok({ created: [], updated: [], deleted: [] }),
    // a drift check's reconcile: each active lease told, then held like a write
    reconcile: async (leases, writing) => {
      for (const lease of leases) {
        writing?.(lease.key);
        await write();
      }
      return ok({ writes: NO_WRITES, changed: [], failures: [] });
    },
    apply: write,
    remove: write,
    status: async (id: LeaseId) => ok<RealizedLease>({ id, key: leaseKey(id), ports: [], confirmed: true }),
  };
  return {
    backend,
    /** Resolves once a write is under way. */
    writing: () =>
      new Promise<void>((resolve) => {
        if (held.length > 0) resolve();
        else started = resolve;
      }),
    release: () => held.shift()?.(),
  };
}

/** A started ClusterSync over the engine on a held realizer; the start-up reconcile's writes are let through. */
async function startedSync(engine: LeaseEngine) {
  const realizer = heldRealizer();
  const sync = new ClusterSync({
    connect: async () => ok({ backend: realizer.backend, close: async () => {} }),
    engine,
    pools: [],
    logger: memoryLogger(),
    retryMaxMs: 1000,
  });
  const started = sync.start(new AbortController().signal, () => {});
  for (let n = 0; n < engine.leases().length; n++) {
    await realizer.writing();
    realizer.release();
  }
  assert.equal(await started, true);
  return { sync, realizer };
}

describe('cluster sync', () => {
  it('a lease whose write is under way is not realised (the cluster holds only part of it)', async () => {
    const engine = unwrap(
      await createLeaseEngine({ store: createMemoryStore(), provider: PROVIDER, pools: [] }),
    );
    const { sync, realizer } = await startedSync(engine);
    const lease = leaseOf('akash1tenant', 7);

    sync.committed([lease]);
    await realizer.writing();
    assert.equal(unwrap(await sync.lease(lease)).realised, false, 'mid-write');
    realizer.release();
    await sync.idle();
    assert.equal(unwrap(await sync.lease(lease)).realised, true, 'once written');
    await sync.close();
  });

  it('a lease a drift check is repairing is not realised, and is once the check moves on', async () => {
    const engine = unwrap(
      await createLeaseEngine({
        store: createMemoryStore(),
        provider: PROVIDER,
        pools: [{ name: 'p', addresses: ['192.0.2.0/30'] }],
      }),
    );
    const first = leaseOf('akash1tenant', 7);
    const second = leaseOf('akash1tenant', 8);
    unwrap(await engine.deploy(first, manifestGroup('g', { web: [{ port: 80, ip: 'alpha' }] })));
    unwrap(await engine.deploy(second, manifestGroup('g', { web: [{ port: 80, ip: 'beta' }] })));
    const { sync, realizer } = await startedSync(engine);
    const realised = async () => [
      unwrap(await sync.lease(first)).realised,
      unwrap(await sync.lease(second)).realised,
    ];

    const check = sync.checkDrift();
    await realizer.writing();
    assert.deepEqual(await realised(), [false, true], 'the check is on the first lease');
    realizer.release();
    await realizer.writing();
    assert.deepEqual(await realised(), [true, false], 'the check is on the second lease');
    realizer.release();
    assert.ok(unwrap(await check));
    assert.deepEqual(await realised(), [true, true], 'the check is done');
    await sync.close();
  });
});

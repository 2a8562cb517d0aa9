/**
 * The behaviour every {@link LeaseStore} adapter must show, as one node:test suite. Each adapter's
 * test file runs it against fresh stores; a future Kubernetes store runs it too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Result } from '../errors/index.js';
import type { QuarantineEntry } from '../ipam/index.js';
import {
  type AllocationRecord,
  type AuditEntry,
  createLeaseEngine,
  type LeaseRecord,
  type LeaseStore,
  leaseKey,
  type StoreChange,
  type StoreDocument,
  type StoreSnapshot,
  storeChange,
} from '../lease/index.js';
import { leaseOf, manifestGroup, PROVIDER } from '../lease/testing.js';

/** A fresh store; `reopen` closes it and opens the same data again, for adapters that persist. */
export interface StoreFixture {
  readonly store: LeaseStore;
  readonly reopen?: () => Promise<LeaseStore>;
}

const ALICE = 'akash1alice';
const BOB = 'akash1bob';

function lease(owner: string, dseq: number, endpoints: LeaseRecord['endpoints'] = []): LeaseRecord {
  return {
    id: leaseOf(owner, dseq),
    state: 'active',
    group: 'dcloud',
    declarations: [{ endpoint: 'web', service: 'web', port: 3000, externalPort: 80, protocol: 'TCP' }],
    endpoints,
    createdAt: 1,
    updatedAt: 1,
  };
}

function allocation(owner: string, dseq: number, address: string, ports = [80]): AllocationRecord {
  const key = leaseKey(leaseOf(owner, dseq));
  return {
    key: `${key}#web`,
    owner,
    pool: 'default',
    addresses: [address],
    ports: ports.map((port) => ({ port, protocol: 'TCP' as const })),
    lease: key,
    endpoint: 'web',
  };
}

function quarantined(address: string, owner = ALICE): QuarantineEntry {
  return { address, pool: 'default', owner, key: `${owner}/9/1/1/${PROVIDER}#web`, until: 5000 };
}

function audit(owner: string, action: AuditEntry['action'], address?: string): AuditEntry {
  return {
    at: 7,
    actor: 'provider',
    action,
    owner,
    lease: leaseKey(leaseOf(owner, 1)),
    endpoint: 'web',
    ...(address === undefined ? {} : { address, port: 80, protocol: 'TCP' as const }),
    detail: 'why',
  };
}

function doc(key: string, json: string | null, namespace = 'manifest'): StoreDocument {
  return { namespace, key, json };
}

/** A namespace's documents sorted by key, as `[key, json]` pairs. */
async function documentsOf(store: LeaseStore, namespace = 'manifest'): Promise<[string, string][]> {
  return unwrap(await store.documents(namespace))
    .map((entry): [string, string] => [entry.key, entry.json])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** A copy with every object's keys sorted, so equal data compares equal whatever order it was built in. */
export function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
  );
}

/** Order-independent form of a snapshot, for comparisons. */
export function normalizeSnapshot(snapshot: StoreSnapshot): unknown {
  const sortBy = <T>(list: readonly T[], key: (item: T) => string): T[] =>
    [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return canonical({
    leases: sortBy(snapshot.leases, (item) => leaseKey(item.id)),
    allocations: sortBy(snapshot.allocations, (item) => item.key).map((item) => ({
      ...item,
      ports: sortBy(item.ports, (port) => `${port.protocol}/${String(port.port).padStart(5, '0')}`),
    })),
    quarantine: sortBy(snapshot.quarantine, (item) => item.address),
    reservations: sortBy(snapshot.reservations, (item) => item.id),
  });
}

/** Runs the store contract against stores made by `make`; `persistent` adds the reopen checks. */
export function runLeaseStoreContract(
  name: string,
  make: () => Promise<StoreFixture>,
  options: { readonly persistent?: boolean } = {},
): void {
  describe(`LeaseStore contract: ${name}`, () => {
    const seeded = async (): Promise<StoreFixture> => {
      const fixture = await make();
      unwrap(
        await fixture.store.commit(
          storeChange({
            leases: [lease(ALICE, 1, [{ name: 'web', state: 'active', since: 1 }]), lease(BOB, 2)],
            allocations: [allocation(ALICE, 1, '203.0.113.1', [80, 443])],
            quarantine: [quarantined('203.0.113.9')],
            reservations: [{ id: `${BOB}/3/1/1`, owner: BOB, count: 2, family: 'v4', at: 3 }],
            documents: [doc(leaseKey(leaseOf(ALICE, 1)), '{"version":"v1"}')],
          }),
        ),
      );
      return fixture;
    };

    it('starts empty', async () => {
      const { store } = await make();
      assert.deepEqual(unwrap(await store.load()), {
        leases: [],
        allocations: [],
        quarantine: [],
        reservations: [],
      });
      assert.deepEqual(await documentsOf(store), []);
      await store.close();
    });

    it('gives back what it was given', async () => {
      const { store } = await seeded();
      const loaded = normalizeSnapshot(unwrap(await store.load()));
      assert.deepEqual(
        loaded,
        normalizeSnapshot({
          leases: [lease(ALICE, 1, [{ name: 'web', state: 'active', since: 1 }]), lease(BOB, 2)],
          allocations: [allocation(ALICE, 1, '203.0.113.1', [80, 443])],
          quarantine: [quarantined('203.0.113.9')],
          reservations: [{ id: `${BOB}/3/1/1`, owner: BOB, count: 2, family: 'v4', at: 3 }],
        }),
      );
      assert.deepEqual(await documentsOf(store), [[leaseKey(leaseOf(ALICE, 1)), '{"version":"v1"}']]);
      await store.close();
    });

    it('keeps documents per namespace and key: a later entry replaces, null removes', async () => {
      const { store } = await seeded();
      const alice = leaseKey(leaseOf(ALICE, 1));
      const bob = leaseKey(leaseOf(BOB, 2));
      unwrap(
        await store.commit(
          storeChange({
            documents: [
              doc(alice, '{"version":"v2"}'),
              doc(bob, '{"version":"b1"}'),
              doc(alice, '{"other":true}', 'notes'),
              doc('gone', '{}'),
              doc('gone', null),
              doc('never-there', null),
            ],
          }),
        ),
      );
      assert.deepEqual(await documentsOf(store), [
        [alice, '{"version":"v2"}'],
        [bob, '{"version":"b1"}'],
      ]);
      assert.deepEqual(await documentsOf(store, 'notes'), [[alice, '{"other":true}']]);
      unwrap(await store.commit(storeChange({ documents: [doc(alice, null)] })));
      assert.deepEqual(await documentsOf(store), [[bob, '{"version":"b1"}']]);
      assert.deepEqual(await documentsOf(store, 'notes'), [[alice, '{"other":true}']]);
      assert.deepEqual(await documentsOf(store, 'unknown'), []);
      assert.equal(unwrap(await store.load()).leases.length, 2, 'documents are not leases');
      await store.close();
    });

    it('replaces leases, allocations (addresses and ports), quarantine and reservations by key', async () => {
      const { store } = await seeded();
      const closed: LeaseRecord = { ...lease(BOB, 2), state: 'closed', updatedAt: 9, closedAt: 9 };
      unwrap(
        await store.commit(
          storeChange({
            leases: [closed],
            allocations: [allocation(ALICE, 1, '203.0.113.2', [8080])],
            quarantine: [{ ...quarantined('203.0.113.9'), until: 6000 }],
            reservations: [{ id: `${BOB}/3/1/1`, owner: BOB, count: 1, family: 'v4', at: 4 }],
          }),
        ),
      );
      const loaded = unwrap(await store.load());
      assert.deepEqual(
        loaded.leases.find((item) => item.id.owner === BOB),
        closed,
      );
      assert.deepEqual(loaded.allocations, [allocation(ALICE, 1, '203.0.113.2', [8080])]);
      assert.equal(loaded.quarantine[0]?.until, 6000);
      assert.equal(loaded.reservations[0]?.count, 1);
      await store.close();
    });

    it('keeps a dual-stack endpoint: its family, both addresses and a dual reservation', async () => {
      const { store } = await seeded();
      const dual: LeaseRecord = lease(BOB, 4, [{ name: 'web', state: 'active', since: 2, family: 'dual' }]);
      const held: AllocationRecord = {
        ...allocation(BOB, 4, '203.0.113.4'),
        addresses: ['203.0.113.4', '2001:db8::4'],
      };
      const reservation = { id: `${BOB}/5/1/1`, owner: BOB, count: 2, family: 'dual' as const, at: 4 };
      unwrap(
        await store.commit(storeChange({ leases: [dual], allocations: [held], reservations: [reservation] })),
      );
      const loaded = unwrap(await store.load());
      assert.deepEqual(
        loaded.leases.find((item) => item.id.owner === BOB && item.id.dseq === '4'),
        dual,
      );
      assert.deepEqual(
        loaded.allocations.find((item) => item.key === held.key),
        held,
      );
      assert.deepEqual(
        loaded.reservations.find((item) => item.id === reservation.id),
        reservation,
      );
      await store.close();
    });

    it('removes by key, and a transfer or a reclaim fits in one change', async () => {
      const { store } = await seeded();
      const moved = { ...allocation(BOB, 2, '203.0.113.1'), owner: BOB };
      unwrap(
        await store.commit(
          storeChange({
            removedAllocations: [allocation(ALICE, 1, '').key],
            removedQuarantine: ['203.0.113.9'],
            removedReservations: [`${BOB}/3/1/1`],
            allocations: [moved, allocation(ALICE, 1, '203.0.113.9')],
          }),
        ),
      );
      const loaded = unwrap(await store.load());
      assert.deepEqual(
        normalizeSnapshot({ ...loaded, leases: [] }),
        normalizeSnapshot({
          leases: [],
          allocations: [moved, allocation(ALICE, 1, '203.0.113.9')],
          quarantine: [],
          reservations: [],
        }),
      );
      await store.close();
    });

    const refusals: [string, string, () => StoreChange][] = [
      [
        'an address with two holders',
        'IP_IN_USE',
        () => storeChange({ allocations: [{ ...allocation(BOB, 2, '203.0.113.1'), owner: BOB }] }),
      ],
      [
        'one port and protocol bound twice on an address',
        'PORT_IN_USE',
        () =>
          storeChange({
            allocations: [{ ...allocation(ALICE, 1, '203.0.113.1'), ports: [80, 80].map(tcp) }],
          }),
      ],
      [
        'two allocations of one owner for one endpoint name',
        'IP_IN_USE',
        () =>
          storeChange({
            leases: [lease(ALICE, 4)],
            allocations: [allocation(ALICE, 4, '203.0.113.4')],
          }),
      ],
      [
        'an allocation of an unknown lease',
        'STORE_CORRUPT',
        () => storeChange({ allocations: [allocation(BOB, 7, '203.0.113.7')] }),
      ],
      [
        'allocating a quarantined address',
        'STORE_CORRUPT',
        () => storeChange({ allocations: [{ ...allocation(BOB, 2, '203.0.113.9'), owner: BOB }] }),
      ],
      [
        'quarantining an allocated address',
        'STORE_CORRUPT',
        () => storeChange({ quarantine: [quarantined('203.0.113.1')] }),
      ],
    ];
    for (const [what, code, build] of refusals) {
      it(`refuses ${what} and keeps every other part of the change out`, async () => {
        const { store } = await seeded();
        const before = normalizeSnapshot(unwrap(await store.load()));
        const documents = await documentsOf(store);
        const bad = build();
        const result = await store.commit({
          ...bad,
          leases: [...bad.leases, lease(BOB, 50)],
          audit: [audit(BOB, 'close')],
          documents: [doc(leaseKey(leaseOf(ALICE, 1)), null), doc(leaseKey(leaseOf(BOB, 50)), '{}')],
        });
        assert.equal(result.ok, false);
        if (!result.ok) assert.equal(result.error.code, code);
        assert.deepEqual(normalizeSnapshot(unwrap(await store.load())), before);
        assert.deepEqual(unwrap(await store.queryAudit({})), []);
        assert.deepEqual(await documentsOf(store), documents);
        await store.close();
      });
    }

    it('appends audit entries with growing ids and answers per owner, address and lease', async () => {
      const { store } = await make();
      unwrap(
        await store.commit(
          storeChange({
            audit: [
              audit(ALICE, 'allocate', '203.0.113.1'),
              audit(BOB, 'allocate', '203.0.113.2'),
              audit(ALICE, 'bind', '203.0.113.1'),
              audit(ALICE, 'withhold'),
            ],
          }),
        ),
      );
      unwrap(await store.commit(storeChange({ audit: [audit(BOB, 'release', '203.0.113.1')] })));
      const all = unwrap(await store.queryAudit({}));
      assert.deepEqual(
        all.map((event) => event.id),
        [1, 2, 3, 4, 5],
      );
      assert.deepEqual(all[0], { id: 1, ...audit(ALICE, 'allocate', '203.0.113.1') });
      assert.deepEqual(all[3], { id: 4, ...audit(ALICE, 'withhold') });
      const ids = async (query: Parameters<LeaseStore['queryAudit']>[0]) =>
        unwrap(await store.queryAudit(query)).map((event) => event.id);
      assert.deepEqual(await ids({ owner: ALICE }), [1, 3, 4]);
      assert.deepEqual(await ids({ address: '203.0.113.1' }), [1, 3, 5]);
      assert.deepEqual(await ids({ owner: BOB, address: '203.0.113.1' }), [5]);
      assert.deepEqual(await ids({ lease: leaseKey(leaseOf(BOB, 1)) }), [2, 5]);
      assert.deepEqual(await ids({ owner: ALICE, afterId: 1, limit: 1 }), [3]);
      const bad = await store.queryAudit({ limit: 0 });
      assert.equal(bad.ok ? 'ok' : bad.error.code, 'INVALID_INPUT');
      await store.close();
    });

    it('holds an engine restart: the engine rebuilds from it without writing', async () => {
      const fixture = await make();
      const options = {
        store: fixture.store,
        provider: PROVIDER,
        pools: [{ name: 'default', addresses: ['203.0.113.0/28'] }],
        now: () => 1000,
      };
      const engine = unwrap(await createLeaseEngine(options));
      const group = manifestGroup('dcloud', { web: [{ port: 3000, as: 80, ip: 'web' }] });
      unwrap(await engine.deploy(leaseOf(ALICE, 1), group));
      unwrap(await engine.deploy(leaseOf(ALICE, 2), group));
      unwrap(await engine.deploy(leaseOf(BOB, 3), group));
      unwrap(await engine.close(leaseOf(BOB, 3)));
      const store = fixture.reopen === undefined ? fixture.store : await fixture.reopen();
      let commits = 0;
      const counting: LeaseStore = {
        load: () => store.load(),
        commit: (next) => {
          commits += 1;
          return store.commit(next);
        },
        queryAudit: (query) => store.queryAudit(query),
        documents: (namespace) => store.documents(namespace),
        close: () => store.close(),
      };
      const again = unwrap(await createLeaseEngine({ ...options, store: counting }));
      assert.equal(commits, 0);
      for (const id of [leaseOf(ALICE, 1), leaseOf(ALICE, 2)])
        assert.deepEqual(again.status(id), engine.status(id));
      assert.deepEqual(again.inventory(), engine.inventory());
      assert.deepEqual(await again.check(), []);
      await store.close();
    });

    it("commits an engine mutation's documents in its change, and none of a failed one", async () => {
      const { store } = await make();
      const engine = unwrap(
        await createLeaseEngine({
          store,
          provider: PROVIDER,
          pools: [{ name: 'default', addresses: ['203.0.113.0/30'] }],
          now: () => 1000,
        }),
      );
      const web = manifestGroup('dcloud', { web: [{ port: 3000, as: 80, ip: 'web' }] });
      const plain = manifestGroup('dcloud', { web: [{ port: 3000, as: 80 }] });
      const [a, b] = [leaseOf(ALICE, 1), leaseOf(BOB, 2)];
      unwrap(await engine.deploy(a, web, { documents: [doc(leaseKey(a), '"a"')] }));
      // no IP endpoint: the engine records nothing, the document is committed alone
      unwrap(await engine.deploy(b, plain, { documents: [doc(leaseKey(b), '"b"')] }));
      assert.deepEqual(await documentsOf(store), [
        [leaseKey(a), '"a"'],
        [leaseKey(b), '"b"'],
      ]);
      unwrap(await engine.close(a, { documents: [doc(leaseKey(a), null)] }));
      const redeployed = await engine.deploy(a, web, { documents: [doc(leaseKey(a), '"again"')] });
      assert.equal(redeployed.ok ? 'ok' : redeployed.error.code, 'LEASE_CLOSED');
      assert.deepEqual(await documentsOf(store), [[leaseKey(b), '"b"']]);
      await store.close();
    });

    if (options.persistent === true) {
      it('keeps everything across a reopen', async () => {
        const fixture = await seeded();
        if (fixture.reopen === undefined) assert.fail('a persistent store fixture needs reopen');
        const before = normalizeSnapshot(unwrap(await fixture.store.load()));
        const documents = await documentsOf(fixture.store);
        const store = await fixture.reopen();
        assert.deepEqual(normalizeSnapshot(unwrap(await store.load())), before);
        assert.deepEqual(await documentsOf(store), documents);
        await store.close();
      });
    }
  });
}

function tcp(port: number) {
  return { port, protocol: 'TCP' as const };
}

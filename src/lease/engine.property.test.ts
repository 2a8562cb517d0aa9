import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { Result } from '../errors/index.js';
import { createMemoryStore } from '../store/index.js';
import {
  createLeaseEngine,
  type LeaseEngine,
  type LeaseEngineOptions,
  type LeaseRecord,
  type LeaseStore,
  leaseKey,
  type StoreSnapshot,
} from './index.js';
import { groupSpecWithIps, leaseOf, manifestGroup, PROVIDER } from './testing.js';

const OWNERS = ['akash1ann', 'akash1ben'];
const NAMES = ['web', 'db', 'api'];

type Command =
  | {
      readonly kind: 'deploy';
      readonly owner: number;
      readonly dseq: number;
      readonly names: string[];
      readonly ports: number[];
    }
  | { readonly kind: 'close'; readonly owner: number; readonly dseq: number }
  | {
      readonly kind: 'migrate';
      readonly owner: number;
      readonly dseq: number;
      readonly names: string[];
      readonly dryRun: boolean;
    }
  | { readonly kind: 'reserve'; readonly owner: number; readonly dseq: number; readonly count: number }
  | { readonly kind: 'unreserve'; readonly owner: number; readonly dseq: number }
  | { readonly kind: 'tick'; readonly ms: number };

const owner = fc.nat({ max: OWNERS.length - 1 });
const dseq = fc.integer({ min: 1, max: 6 });
const names = fc.subarray(NAMES, { minLength: 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('deploy' as const),
    owner,
    dseq,
    names,
    ports: fc.array(fc.integer({ min: 80, max: 83 }), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('close' as const), owner, dseq }),
  fc.record({ kind: fc.constant('migrate' as const), owner, dseq, names, dryRun: fc.boolean() }),
  fc.record({ kind: fc.constant('reserve' as const), owner, dseq, count: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('unreserve' as const), owner, dseq }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 40_000 }) }),
);

async function apply(engine: LeaseEngine, command: Command): Promise<Result<unknown>> {
  if (command.kind === 'tick') return engine.maintain();
  const who = OWNERS[command.owner]!;
  const order = { owner: who, dseq: String(command.dseq), gseq: 1, oseq: 1 };
  switch (command.kind) {
    case 'deploy': {
      const services: Record<string, { port: number; as: number; ip: string }[]> = {};
      for (const name of command.names) {
        services[name] = [...new Set(command.ports)].map((port) => ({
          port: 3000 + (port % 2) + command.dseq,
          as: port,
          ip: name,
        }));
      }
      return engine.deploy(leaseOf(who, command.dseq), manifestGroup('dcloud', services));
    }
    case 'close':
      return engine.close(leaseOf(who, command.dseq));
    case 'migrate':
      return engine.migrate({
        owner: who,
        destination: { dseq: String(command.dseq), gseq: 1 },
        endpoints: command.names,
        dryRun: command.dryRun,
      });
    case 'reserve':
      return engine.reserve(order, groupSpecWithIps(Array.from({ length: command.count }, (_, i) => i + 1)));
    case 'unreserve':
      return engine.unreserve(order);
  }
}

/** What must hold after every step, whatever the steps were. */
async function invariants(engine: LeaseEngine, store: LeaseStore): Promise<void> {
  assert.deepEqual(await engine.check(), []);
  const loaded = await store.load();
  assert.ok(loaded.ok);
  const snapshot: StoreSnapshot = loaded.value;
  for (const allocation of snapshot.allocations) {
    const lease: LeaseRecord | undefined = snapshot.leases.find(
      (candidate) => leaseKey(candidate.id) === allocation.lease,
    );
    const wanted: string[] = (lease?.declarations ?? [])
      .filter((declaration) => declaration.endpoint === allocation.endpoint)
      .map((declaration) => `${declaration.externalPort}/${declaration.protocol}`)
      .sort();
    const bound = allocation.ports.map((port) => `${port.port}/${port.protocol}`).sort();
    assert.deepEqual(bound, wanted, `${allocation.key} binds exactly its declared ports`);
  }
  const holders = new Map<string, string>();
  const claims = new Set<string>();
  let active = 0;
  for (const lease of engine.leases({ state: 'active' })) {
    const declared = new Set(lease.declarations.map((declaration) => declaration.endpoint));
    assert.deepEqual(
      lease.endpoints.map((endpoint) => endpoint.name),
      [...declared].sort(),
      'every declared endpoint has a state',
    );
    for (const endpoint of lease.endpoints) {
      if (endpoint.state !== 'withheld') {
        const claim = `${lease.id.owner}/${endpoint.name}`;
        assert.ok(!claims.has(claim), `${claim} claimed twice`);
        claims.add(claim);
      } else assert.ok(endpoint.reason !== undefined);
      if (endpoint.state !== 'active') continue;
      active += 1;
      assert.equal(endpoint.addresses.length, 1);
      for (const address of endpoint.addresses) {
        assert.ok(!holders.has(address), `${address} held by ${holders.get(address)} and ${lease.key}`);
        holders.set(address, lease.key);
      }
      const status = engine.status(lease.id);
      assert.ok(status.ok);
      const ports = Object.values(status.value.ips ?? {})
        .flat()
        .filter((entry) => entry.IP === endpoint.addresses[0]);
      assert.equal(ports.length, lease.declarations.filter((d) => d.endpoint === endpoint.name).length);
    }
  }
  for (const lease of engine.leases({ state: 'closed' })) assert.deepEqual(lease.endpoints, []);
  assert.equal(engine.inventory().inUse, BigInt(active));
}

it('keeps its invariants under any sequence of operations, and restarts into the same state', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 30 }), async (commands) => {
      const clock = { now: 1_000_000 };
      const store = createMemoryStore();
      const options: LeaseEngineOptions = {
        store,
        provider: PROVIDER,
        pools: [{ name: 'default', addresses: ['203.0.113.0/29'] }],
        quarantineMs: 60_000,
        now: () => clock.now,
      };
      const created = await createLeaseEngine(options);
      assert.ok(created.ok);
      const engine = created.value;
      for (const next of commands) {
        if (next.kind === 'tick') clock.now += next.ms;
        const result = await apply(engine, next);
        if (!result.ok) {
          assert.ok(
            [
              'LEASE_CLOSED',
              'LEASE_NOT_FOUND',
              'MIGRATION_INVALID',
              'FORBIDDEN',
              'ENDPOINT_NOT_FOUND',
              'INSUFFICIENT_IPS',
            ].includes(result.error.code),
            `${next.kind}: ${result.error.code} ${result.error.message}`,
          );
        }
        await invariants(engine, store);
      }
      const restarted = await createLeaseEngine(options);
      assert.ok(restarted.ok);
      assert.deepEqual(restarted.value.leases(), engine.leases());
      assert.deepEqual(restarted.value.inventory(), engine.inventory());
      assert.deepEqual(await restarted.value.check(), []);
    }),
    { numRuns: 150 },
  );
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AppError, Result } from '../errors/index.js';
import type { PoolSpec } from '../ipam/index.js';
import { createMemoryStore } from '../store/index.js';
import { createLeaseEngine, type LeaseEngine, type LeaseId, type LeaseStore } from './index.js';
import { groupSpecOf, groupSpecWithIps, leaseOf, manifestGroup, requiring } from './testing.js';

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function failure<T>(result: Result<T>): AppError {
  if (result.ok) assert.fail(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

const ALICE = 'akash1alice';
const BOB = 'akash1bob';
const DUAL = { 'ip-lease-ipv6': 'true' };
const V6_ONLY = { 'ip-lease-ipv6-only': 'true' };

/** One pool holding both families, as a dual-stack MetalLB IPAddressPool does. */
const DUAL_POOL: PoolSpec = { name: 'dual', addresses: ['203.0.113.0/30', '2001:db8::/126'] };
const V4_POOL: PoolSpec = { name: 'v4', addresses: ['192.0.2.0/30'] };
const V6_POOL: PoolSpec = { name: 'v6', addresses: ['2001:db8:6::/126'] };

async function engineWith(pools: readonly PoolSpec[], store: LeaseStore = createMemoryStore()) {
  const clock = { now: 1_000_000 };
  const engine = unwrap(
    await createLeaseEngine({ store, provider: 'akash1provider', pools, now: () => clock.now }),
  );
  return { engine, clock, store };
}

const web = () =>
  manifestGroup('dcloud', {
    web: [
      { port: 3000, as: 80, ip: 'web' },
      { port: 53, proto: 'UDP', ip: 'web' },
    ],
  });

async function deployAs(
  engine: LeaseEngine,
  lease: LeaseId,
  attributes: Readonly<Record<string, string>>,
  group = web(),
) {
  return engine.deploy(lease, group, { groupSpec: requiring(groupSpecOf(group), attributes) });
}

describe('dual-stack leases', () => {
  it('gives a dual endpoint one address of each family, reported per port per family in Go’s shape', async () => {
    const { engine } = await engineWith([DUAL_POOL]);
    const lease = leaseOf(ALICE, 1);
    const deployed = unwrap(await deployAs(engine, lease, DUAL));
    assert.deepEqual(deployed.lease?.endpoints[0]?.addresses, ['203.0.113.0', '2001:db8::']);
    assert.equal(deployed.lease?.endpoints[0]?.family, 'dual');
    const status = unwrap(engine.status(lease));
    assert.deepEqual(status.ips, {
      web: [
        { Port: 53, ExternalPort: 53, Protocol: 'UDP', IP: '203.0.113.0' },
        { Port: 53, ExternalPort: 53, Protocol: 'UDP', IP: '2001:db8::' },
        { Port: 3000, ExternalPort: 80, Protocol: 'TCP', IP: '203.0.113.0' },
        { Port: 3000, ExternalPort: 80, Protocol: 'TCP', IP: '2001:db8::' },
      ],
    });
    // every entry keeps exactly Akash's four fields, in Go's order
    for (const entry of status.ips?.web ?? [])
      assert.deepEqual(Object.keys(entry), ['Port', 'ExternalPort', 'Protocol', 'IP']);
    assert.deepEqual(status.ip_endpoints.web, {
      state: 'active',
      family: 'dual',
      addresses: ['203.0.113.0', '2001:db8::'],
      ipv4: '203.0.113.0',
      ipv6: '2001:db8::',
    });
    assert.deepEqual(unwrap(engine.env(lease)), {
      web: { AKASH_LEASED_IP_WEB: '203.0.113.0', AKASH_LEASED_IP6_WEB: '2001:db8::' },
    });
    assert.deepEqual(await engine.check(), []);
  });

  it('gives an IPv6-only endpoint one IPv6 address; the IPv4 variable name carries it too', async () => {
    const { engine } = await engineWith([V4_POOL, V6_POOL]);
    const lease = leaseOf(ALICE, 2);
    unwrap(await deployAs(engine, lease, V6_ONLY));
    const status = unwrap(engine.status(lease));
    assert.deepEqual(status.ip_endpoints.web, {
      state: 'active',
      family: 'v6',
      addresses: ['2001:db8:6::'],
      ipv6: '2001:db8:6::',
    });
    assert.deepEqual(
      status.ips?.web?.map((entry) => entry.IP),
      ['2001:db8:6::', '2001:db8:6::'],
    );
    assert.deepEqual(unwrap(engine.env(lease)), {
      web: { AKASH_LEASED_IP_WEB: '2001:db8:6::', AKASH_LEASED_IP6_WEB: '2001:db8:6::' },
    });
  });

  it('leases IPv4 as today when the group asks for nothing', async () => {
    const { engine } = await engineWith([DUAL_POOL]);
    const lease = leaseOf(ALICE, 3);
    unwrap(await deployAs(engine, lease, { 'ip-lease': 'true' }));
    assert.deepEqual(unwrap(engine.status(lease)).ip_endpoints.web?.addresses, ['203.0.113.0']);
    assert.deepEqual(unwrap(engine.env(lease)), { web: { AKASH_LEASED_IP_WEB: '203.0.113.0' } });
    // the stored record is the one written before dual-stack existed: no family field
    assert.equal(
      JSON.stringify(engine.leases()[0]?.endpoints.map(({ name, state }) => ({ name, state }))),
      '[{"name":"web","state":"active"}]',
    );
  });

  it('keeps both addresses through an update, moves both in a migration, quarantines both on close, and audits each', async () => {
    const { engine, clock } = await engineWith([DUAL_POOL]);
    const first = leaseOf(ALICE, 10);
    unwrap(await deployAs(engine, first, DUAL));
    const updated = manifestGroup('dcloud', { web: [{ port: 3000, as: 443, ip: 'web' }] });
    clock.now += 1000;
    const update = unwrap(await deployAs(engine, first, DUAL, updated));
    assert.deepEqual(update.lease?.endpoints[0]?.addresses, ['203.0.113.0', '2001:db8::']);
    assert.deepEqual(
      update.events
        .filter((event) => event.action === 'bind')
        .map((event) => `${event.address} ${event.port}`),
      ['203.0.113.0 443', '2001:db8:: 443'],
    );
    const second = leaseOf(ALICE, 11);
    const waiting = unwrap(await deployAs(engine, second, DUAL, updated));
    assert.equal(waiting.lease?.endpoints[0]?.state, 'withheld');
    const migrated = unwrap(
      await engine.migrate({ owner: ALICE, destination: { dseq: '11', gseq: 1 }, endpoints: ['web'] }),
    );
    assert.deepEqual(migrated.moves[0]?.addresses, ['203.0.113.0', '2001:db8::']);
    assert.deepEqual(
      migrated.events.filter((event) => event.action === 'migrate').map((event) => event.address),
      ['203.0.113.0', '2001:db8::'],
    );
    assert.deepEqual(unwrap(engine.status(second)).ip_endpoints.web?.family, 'dual');
    const closed = unwrap(await engine.close(second));
    assert.deepEqual(closed.released, ['203.0.113.0', '2001:db8::']);
    assert.deepEqual(
      closed.events.filter((event) => event.action === 'release').map((event) => event.address),
      ['203.0.113.0', '2001:db8::'],
    );
    const trail = unwrap(await engine.audit({ address: '2001:db8::' }));
    assert.deepEqual(
      [...new Set(trail.map((event) => event.action))],
      ['allocate', 'bind', 'unbind', 'migrate', 'release'],
    );
    // the first deployment was waiting for the name: it gets the name back with both of its addresses
    assert.deepEqual(engine.lease(first)?.endpoints[0]?.addresses, ['203.0.113.0', '2001:db8::']);
    unwrap(await engine.close(first));
    // now both cool down: another owner gets neither
    const bob = leaseOf(BOB, 12);
    const bobs = unwrap(await deployAs(engine, bob, DUAL));
    assert.deepEqual(bobs.lease?.endpoints[0]?.addresses, ['203.0.113.1', '2001:db8::1']);
    assert.deepEqual(
      engine.capacities().map((row) => `${row.family} q${row.quarantined}`),
      ['v4 q1', 'v6 q1'],
    );
    assert.deepEqual(await engine.check(), []);
  });

  it('retries a pending dual endpoint as dual once addresses free up', async () => {
    const { engine, clock } = await engineWith([
      { name: 'dual', addresses: ['203.0.113.9/32', '2001:db8::9/128'] },
    ]);
    unwrap(await deployAs(engine, leaseOf(BOB, 1), DUAL));
    const lease = leaseOf(ALICE, 2);
    const pending = unwrap(await deployAs(engine, lease, DUAL));
    assert.equal(pending.lease?.endpoints[0]?.state, 'pending');
    assert.equal(pending.lease?.endpoints[0]?.family, 'dual');
    unwrap(await engine.close(leaseOf(BOB, 1)));
    clock.now += 3_600_001;
    const maintained = unwrap(await engine.maintain());
    assert.equal(maintained.retried, 1);
    assert.deepEqual(engine.lease(lease)?.endpoints[0]?.addresses, ['203.0.113.9', '2001:db8::9']);
  });

  it('refuses a family the pools cannot serve, naming it', async () => {
    const { engine } = await engineWith([V4_POOL, V6_POOL]);
    const error = failure(await deployAs(engine, leaseOf(ALICE, 1), DUAL));
    assert.equal(error.code, 'NO_IP_SUPPORT');
    assert.equal(error.details?.family, 'dual');
    const v4only = await engineWith([V4_POOL]);
    const refused = failure(
      await v4only.engine.reserve(leaseOf(ALICE, 2), requiring(groupSpecWithIps([1]), V6_ONLY)),
    );
    assert.equal(refused.code, 'NO_IP_SUPPORT');
    assert.equal(refused.details?.family, 'v6');
  });
});

describe('the bid gate per family', () => {
  const order = (dseq: number) => ({ owner: ALICE, dseq: String(dseq), gseq: 1, oseq: 1 });

  it('holds one address of each family per dual endpoint', async () => {
    const { engine } = await engineWith([DUAL_POOL]);
    const held = unwrap(await engine.reserve(order(1), requiring(groupSpecWithIps([1, 2]), DUAL)));
    assert.deepEqual(held, { id: `${ALICE}/1/1/1`, count: 2, family: 'dual', addresses: 4 });
    assert.deepEqual(
      engine.capacities().map((row) => `${row.family} r${row.reserved} a${row.available}`),
      ['v4 r2 a2', 'v6 r2 a2'],
    );
    assert.deepEqual(
      engine.reservations().map((r) => [r.count, r.family]),
      [[2, 'dual']],
    );
    assert.deepEqual(await engine.check(), []);
  });

  it('exhausting IPv6 refuses IPv6 and dual orders with INSUFFICIENT_IPS naming v6, while IPv4 orders still bid', async () => {
    const { engine } = await engineWith([DUAL_POOL]);
    // 4 IPv6 addresses: two dual endpoints and two IPv6-only ones take them all
    unwrap(await engine.reserve(order(1), requiring(groupSpecWithIps([1, 2]), DUAL)));
    unwrap(await engine.reserve(order(2), requiring(groupSpecWithIps([1, 2]), V6_ONLY)));
    for (const [dseq, attributes] of [
      [3, DUAL],
      [4, V6_ONLY],
    ] as const) {
      const error = failure(await engine.reserve(order(dseq), requiring(groupSpecWithIps([1]), attributes)));
      assert.equal(error.code, 'INSUFFICIENT_IPS');
      assert.equal(error.details?.family, 'v6');
      assert.match(error.message, /unable to reserve 1 IPv6/);
    }
    assert.deepEqual(unwrap(await engine.reserve(order(5), groupSpecWithIps([1, 2]))).addresses, 2);
    // and the other way round: IPv4 gone, IPv6-only still bids... if IPv6 were free; free one first
    unwrap(await engine.unreserve(order(2)));
    const v4gone = failure(await engine.reserve(order(6), requiring(groupSpecWithIps([1]), DUAL)));
    assert.equal(v4gone.details?.family, 'v4');
    assert.equal(v4gone.message, 'insufficient number of IPs: unable to reserve 1');
    assert.equal(
      unwrap(await engine.reserve(order(7), requiring(groupSpecWithIps([1, 2]), V6_ONLY))).count,
      2,
    );
    assert.deepEqual(await engine.check(), []);
  });

  it('places mixed orders on providers of each kind', async () => {
    const providers = {
      'v4-only': (await engineWith([V4_POOL])).engine,
      'v6-only': (await engineWith([V6_POOL])).engine,
      'dual-stack': (await engineWith([DUAL_POOL])).engine,
    };
    const orders = { v4: {}, v6: V6_ONLY, dual: DUAL };
    const outcome: string[] = [];
    let dseq = 100;
    for (const [kind, engine] of Object.entries(providers)) {
      for (const [family, attributes] of Object.entries(orders)) {
        const held = await engine.reserve(order(dseq++), requiring(groupSpecWithIps([1]), attributes));
        outcome.push(`${kind} ${family}: ${held.ok ? 'bid' : held.error.code}`);
      }
    }
    assert.deepEqual(outcome, [
      'v4-only v4: bid',
      'v4-only v6: NO_IP_SUPPORT',
      'v4-only dual: NO_IP_SUPPORT',
      'v6-only v4: NO_IP_SUPPORT',
      'v6-only v6: bid',
      'v6-only dual: NO_IP_SUPPORT',
      'dual-stack v4: bid',
      'dual-stack v6: bid',
      'dual-stack dual: bid',
    ]);
  });

  it('deploys a reserved dual order into both of its held addresses and drops the hold', async () => {
    const { engine } = await engineWith([DUAL_POOL]);
    const lease = leaseOf(ALICE, 1);
    const group = web();
    unwrap(await engine.reserve(order(1), requiring(groupSpecOf(group), DUAL)));
    unwrap(await deployAs(engine, lease, DUAL, group));
    assert.deepEqual(engine.reservations(), []);
    assert.deepEqual(
      engine.capacities().map((row) => `${row.family} u${row.allocated} r${row.reserved}`),
      ['v4 u1 r0', 'v6 u1 r0'],
    );
  });
});

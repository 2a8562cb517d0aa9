/**
 * Random command sequences against the allocator, checked after every step against invariants computed
 * independently: pool membership comes from cidr-tools' expansion, everything else from snapshots.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandCidr } from 'cidr-tools';
import fc from 'fast-check';
import { createAllocator } from './allocator.js';
import type {
  Allocation,
  Allocator,
  Family,
  FamilyRequest,
  IpamSnapshot,
  PoolSpec,
  Protocol,
} from './types.js';

const HOUR = 3_600_000;

/** Pool sets the sequence switches between: the base, a shrunk one, a grown one, a renamed one. */
const CONFIGS: readonly (readonly PoolSpec[])[] = [
  [
    { name: 'a', addresses: ['192.0.2.0/29', '2001:db8::/126'], exclude: ['192.0.2.3'], avoidBuggyIPs: true },
    { name: 'b', addresses: ['198.51.100.0/30'], autoAssign: false },
    { name: 'c', addresses: ['203.0.113.0/31', '2001:db8:1::/127'] },
  ],
  [
    { name: 'a', addresses: ['192.0.2.0/30', '2001:db8::/127'], avoidBuggyIPs: true },
    { name: 'c', addresses: ['203.0.113.0/32'] },
  ],
  [
    { name: 'a', addresses: ['192.0.2.0/28', '2001:db8::/125'], exclude: ['192.0.2.3'] },
    { name: 'b', addresses: ['198.51.100.0/30'], autoAssign: false },
    { name: 'c', addresses: ['203.0.113.0/30', '2001:db8:1::/126'] },
  ],
  [{ name: 'z', addresses: ['198.51.100.0/29', '192.0.2.0/29', '2001:db8::/124'] }],
];

interface Member {
  readonly pool: string;
  readonly family: Family;
  readonly autoAssign: boolean;
  readonly order: number;
}

/** Every assignable address of a config, with its pool, in allocation order (pool order, then address). */
function membership(pools: readonly PoolSpec[]): Map<string, Member> {
  const out = new Map<string, Member>();
  let order = 0;
  for (const pool of pools) {
    const excluded = new Set(pool.exclude === undefined ? [] : [...expandCidr([...pool.exclude])]);
    for (const address of expandCidr([...pool.addresses])) {
      const family: Family = address.includes(':') ? 'v6' : 'v4';
      const last = address.split('.').at(-1);
      if (
        excluded.has(address) ||
        (pool.avoidBuggyIPs === true && family === 'v4' && (last === '0' || last === '255'))
      ) {
        continue;
      }
      out.set(address, { pool: pool.name, family, autoAssign: pool.autoAssign ?? true, order: order++ });
    }
  }
  return out;
}

type Command =
  | {
      readonly op: 'allocate';
      readonly key: number;
      readonly owner: number;
      readonly family: FamilyRequest | undefined;
      readonly pool: string | undefined;
      readonly pin: number | undefined;
      readonly reservation: boolean;
    }
  | {
      readonly op: 'bind' | 'unbind';
      readonly key: number;
      readonly port: number;
      readonly protocol: Protocol;
      readonly keep: boolean;
    }
  | { readonly op: 'release'; readonly key: number }
  | { readonly op: 'transfer'; readonly key: number; readonly to: number; readonly owner: number }
  | { readonly op: 'reserve'; readonly id: number; readonly count: number; readonly family: Family }
  | { readonly op: 'unreserve'; readonly id: number }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'setPools'; readonly config: number }
  | { readonly op: 'restart' };

const key = fc.integer({ min: 0, max: 7 });
const owner = fc.integer({ min: 0, max: 2 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      op: fc.constant('allocate' as const),
      key,
      owner,
      family: fc.constantFrom<FamilyRequest | undefined>(undefined, 'v4', 'v6', 'dual'),
      pool: fc.oneof(
        { weight: 6, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('a', 'b', 'c', 'x') },
      ),
      pin: fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 40 }) },
      ),
      reservation: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constantFrom('bind' as const, 'unbind' as const),
      key,
      port: fc.integer({ min: 1, max: 3 }),
      protocol: fc.constantFrom<Protocol>('TCP', 'UDP'),
      keep: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('release' as const), key }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('transfer' as const), key, to: key, owner }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('reserve' as const),
      id: fc.integer({ min: 0, max: 1 }),
      count: fc.integer({ min: 0, max: 5 }),
      family: fc.constantFrom<Family>('v4', 'v6'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('unreserve' as const), id: fc.integer({ min: 0, max: 1 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.constantFrom(1, HOUR / 2, HOUR, 2 * HOUR),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('setPools' as const), config: fc.integer({ min: 0, max: 3 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'restart' as const }) },
);

function canonical(snapshot: IpamSnapshot): string {
  const allocations = snapshot.allocations
    .map((a) =>
      JSON.stringify([
        a.key,
        a.owner,
        a.pool,
        a.addresses,
        a.ports.map((p) => `${p.port}/${p.protocol}`).sort(),
      ]),
    )
    .sort();
  const quarantine = snapshot.quarantine.map((q) => JSON.stringify(q)).sort();
  const reservations = snapshot.reservations.map((r) => JSON.stringify(r)).sort();
  return JSON.stringify({ allocations, quarantine, reservations });
}

/** Whether an allocation is not wholly inside one pool (after a pool change shrank or split it). */
function isOrphan(a: Allocation, members: Map<string, Member>): boolean {
  const pools = new Set(a.addresses.map((x) => members.get(x)?.pool));
  return pools.size !== 1 || pools.has(undefined);
}

/** Checks every invariant that a snapshot and the capacity report must satisfy together. */
function checkInvariants(
  ipam: Allocator,
  members: Map<string, Member>,
  pools: readonly PoolSpec[],
): IpamSnapshot {
  const snapshot = ipam.snapshot();
  const seen = new Set<string>();
  const keys = new Set<string>();
  const allocated = new Map<string, number>();
  const quarantined = new Map<string, number>();
  for (const a of snapshot.allocations) {
    assert.ok(!keys.has(a.key), `key ${a.key} twice`);
    keys.add(a.key);
    const families = a.addresses.map((x) => (x.includes(':') ? 'v6' : 'v4'));
    assert.equal(new Set(families).size, families.length, 'one address per family');
    const ports = a.ports.map((p) => `${p.port}/${p.protocol}`);
    assert.equal(new Set(ports).size, ports.length, 'a port bound twice');
    for (const address of a.addresses) {
      assert.ok(!seen.has(address), `${address} held twice`);
      seen.add(address);
      const member = members.get(address);
      if (member !== undefined) {
        // An orphan (not wholly inside one pool) keeps the pool it came from; others name their pool.
        if (!isOrphan(a, members)) assert.equal(a.pool, member.pool);
        const row = `${member.pool}/${member.family}`;
        allocated.set(row, (allocated.get(row) ?? 0) + 1);
      }
    }
  }
  for (const q of snapshot.quarantine) {
    assert.ok(!seen.has(q.address), `${q.address} held and quarantined`);
    seen.add(q.address);
    const member = members.get(q.address);
    assert.ok(member !== undefined, 'quarantine only inside pools');
    assert.equal(q.pool, member.pool);
    const row = `${member.pool}/${member.family}`;
    quarantined.set(row, (quarantined.get(row) ?? 0) + 1);
  }
  const reserved = { v4: 0n, v6: 0n };
  for (const r of snapshot.reservations) {
    for (const f of r.family === 'dual' ? (['v4', 'v6'] as const) : [r.family])
      reserved[f] += BigInt(r.count);
  }
  const autoFree = { v4: 0n, v6: 0n };
  const rows = ipam.capacity();
  const expectedRows = pools.flatMap((p) =>
    (['v4', 'v6'] as const)
      .filter((f) => [...members.values()].some((m) => m.pool === p.name && m.family === f))
      .map((f) => `${p.name}/${f}`),
  );
  assert.deepEqual(
    rows.map((r) => `${r.pool}/${r.family}`),
    expectedRows,
  );
  let attributed = { v4: 0n, v6: 0n };
  for (const row of rows) {
    const id = `${row.pool}/${row.family}`;
    const size = [...members.values()].filter((m) => m.pool === row.pool && m.family === row.family).length;
    assert.equal(row.capacity, BigInt(size), id);
    assert.equal(row.allocated, BigInt(allocated.get(id) ?? 0), `${id} allocated`);
    assert.equal(row.quarantined, BigInt(quarantined.get(id) ?? 0), `${id} quarantined`);
    const free = row.capacity - row.allocated - row.quarantined;
    assert.equal(row.available, free - row.reserved, id);
    const auto = members.get([...members.keys()].find((k) => members.get(k)?.pool === row.pool)!)?.autoAssign;
    if (auto) autoFree[row.family] += free;
    else assert.equal(row.reserved, 0n);
    attributed = { ...attributed, [row.family]: attributed[row.family] + row.reserved };
  }
  for (const family of ['v4', 'v6'] as const) {
    const expected = reserved[family] < autoFree[family] ? reserved[family] : autoFree[family];
    assert.equal(attributed[family], expected, `${family} reserved attribution`);
    const spare = autoFree[family] - reserved[family];
    assert.equal(ipam.available(family), spare > 0n ? spare : 0n, `${family} available`);
  }
  return snapshot;
}

/** Lowest free addresses per family in the first auto-assign pool that has one of each, as the allocator must pick. */
function expectedFresh(
  members: Map<string, Member>,
  taken: Set<string>,
  families: readonly Family[],
): string[] | undefined {
  const pools = [...new Set([...members.values()].filter((m) => m.autoAssign).map((m) => m.pool))];
  for (const pool of pools) {
    const picks = families.map(
      (family) =>
        [...members]
          .filter(([a, m]) => m.pool === pool && m.family === family && !taken.has(a))
          .sort((x, y) => x[1].order - y[1].order)[0]?.[0],
    );
    if (picks.every((p) => p !== undefined)) return picks as string[];
  }
  return undefined;
}

function run(commands: readonly Command[]): void {
  let now = 0;
  let config = 0;
  let members = membership(CONFIGS[0]!);
  const options = () => ({ pools: CONFIGS[config]!, now: () => now });
  const made = createAllocator(options());
  assert.ok(made.ok);
  let ipam = made.value;
  const universe = [...new Set(CONFIGS.flatMap((c) => [...membership(c).keys()]))].sort();

  for (const c of commands) {
    // Time always moves a little, so no two releases share a deadline.
    now += 1;
    const before = ipam.snapshot();
    const spare = { v4: ipam.available('v4'), v6: ipam.available('v6') };
    switch (c.op) {
      case 'allocate': {
        const request = {
          key: `k${c.key}`,
          owner: `o${c.owner}`,
          ...(c.family === undefined ? {} : { family: c.family }),
          ...(c.pool === undefined ? {} : { pool: c.pool }),
          ...(c.pin === undefined ? {} : { addresses: [universe[c.pin % universe.length]!] }),
          ...(c.reservation ? { reservation: 'r0' } : {}),
        };
        const result = ipam.allocate(request);
        const existing = before.allocations.find((a) => a.key === request.key);
        if (!result.ok) {
          if (
            result.error.code === 'POOL_EXHAUSTED' &&
            existing === undefined &&
            c.pin === undefined &&
            c.pool === undefined
          ) {
            // Either no pool has room, or reservations hold what is left.
            const taken = new Set([
              ...before.allocations.flatMap((a) => a.addresses),
              ...before.quarantine.map((q) => q.address),
            ]);
            const families: Family[] = c.family === 'dual' ? ['v4', 'v6'] : [c.family ?? 'v4'];
            const candidate = expectedFresh(members, taken, families);
            if (candidate !== undefined)
              assert.ok(
                before.reservations.some((r) => r.count > 0),
                'exhausted with room and no reservation',
              );
          }
          break;
        }
        const got: Allocation = result.value;
        if (existing !== undefined) {
          assert.deepEqual(got.addresses, existing.addresses, 'allocate is idempotent');
          break;
        }
        const cooling = before.quarantine.filter((q) => got.addresses.includes(q.address));
        for (const q of cooling)
          assert.equal(q.owner, request.owner, `${q.address} handed to another owner while cooling`);
        // A new address from an auto-assign pool must not eat capacity that reservations hold.
        const holder = before.reservations.find((r) => r.id === 'r0');
        for (const address of got.addresses) {
          const member = members.get(address);
          if (member === undefined || !member.autoAssign || cooling.some((q) => q.address === address))
            continue;
          const fulfils =
            c.reservation && holder !== undefined && holder.family === member.family && holder.count > 0;
          if (!fulfils) assert.ok(spare[member.family] >= 1n, `${address} taken from reserved capacity`);
        }
        // A key gets its most recent cooling addresses back when its owner asks for the same thing again.
        const mine = before.quarantine.filter((q) => q.key === request.key);
        const latest = Math.max(...mine.map((q) => q.until));
        const record = mine.filter((q) => q.until === latest);
        const families: Family[] = c.family === 'dual' ? ['v4', 'v6'] : [c.family ?? 'v4'];
        const sameShape =
          record.length === families.length &&
          record.every((q) => q.pool === record[0]?.pool && q.owner === request.owner) &&
          families.every((f) => record.some((q) => (q.address.includes(':') ? 'v6' : 'v4') === f)) &&
          (c.pool === undefined || record[0]?.pool === c.pool);
        if (c.pin === undefined && sameShape) {
          assert.deepEqual([...got.addresses].sort(), record.map((q) => q.address).sort(), 'reclaim by key');
        }
        if (c.pin === undefined && c.pool === undefined && cooling.length === 0) {
          const taken = new Set([
            ...before.allocations.flatMap((a) => a.addresses),
            ...before.quarantine.map((q) => q.address),
          ]);
          const families: Family[] = c.family === 'dual' ? ['v4', 'v6'] : [c.family ?? 'v4'];
          assert.deepEqual(got.addresses, expectedFresh(members, taken, families), 'lowest free address');
        }
        break;
      }
      case 'bind': {
        const result = ipam.bind(`k${c.key}`, { port: c.port, protocol: c.protocol });
        const existing = before.allocations.find((a) => a.key === `k${c.key}`);
        if (existing === undefined) assert.equal(!result.ok && result.error.code, 'NOT_FOUND');
        else {
          const bound = existing.ports.some((p) => p.port === c.port && p.protocol === c.protocol);
          assert.equal(result.ok ? 'ok' : result.error.code, bound ? 'PORT_IN_USE' : 'ok');
        }
        break;
      }
      case 'unbind': {
        const result = ipam.unbind(
          `k${c.key}`,
          { port: c.port, protocol: c.protocol },
          { keepAddress: c.keep },
        );
        const existing = before.allocations.find((a) => a.key === `k${c.key}`);
        assert.equal(result.ok, existing !== undefined);
        if (existing !== undefined && result.ok) {
          const left = existing.ports.filter((p) => !(p.port === c.port && p.protocol === c.protocol));
          const released = left.length === 0 && existing.ports.length > 0 && !c.keep;
          assert.equal(result.value === undefined, released);
        }
        break;
      }
      case 'release': {
        assert.ok(ipam.release(`k${c.key}`).ok);
        assert.equal(ipam.lookup(`k${c.key}`), undefined);
        const released = before.allocations.find((a) => a.key === `k${c.key}`);
        const cooling = ipam.snapshot().quarantine.filter((q) => released?.addresses.includes(q.address));
        // Whatever lies inside a pool waits exactly one quarantine period; the rest is gone.
        const pooled = released?.addresses.filter((x) => members.has(x)) ?? [];
        assert.equal(cooling.length, pooled.length);
        for (const q of cooling) assert.equal(q.until, now + HOUR);
        break;
      }
      case 'transfer': {
        const from = before.allocations.find((a) => a.key === `k${c.key}`);
        const result = ipam.transfer(`k${c.key}`, `k${c.to}`, `o${c.owner}`);
        if (result.ok) assert.deepEqual(result.value.addresses, from?.addresses);
        else assert.ok(from === undefined || before.allocations.some((a) => a.key === `k${c.to}`));
        break;
      }
      case 'reserve':
        ipam.reserve(`r${c.id}`, c.count, c.family);
        break;
      case 'unreserve':
        ipam.unreserve(`r${c.id}`);
        break;
      case 'advance':
        now += c.ms;
        break;
      case 'setPools': {
        config = c.config;
        members = membership(CONFIGS[config]!);
        const result = ipam.setPools(CONFIGS[config]!);
        assert.ok(result.ok);
        const orphans = result.value.orphaned.map((a) => a.key).sort();
        const outside = ipam
          .snapshot()
          .allocations.filter((a) => isOrphan(a, members))
          .map((a) => a.key)
          .sort();
        assert.deepEqual(orphans, outside);
        break;
      }
      case 'restart': {
        const restored = createAllocator(options(), before);
        assert.ok(restored.ok);
        assert.equal(canonical(restored.value.snapshot()), canonical(ipam.snapshot()));
        ipam = restored.value;
        break;
      }
    }
    const after = checkInvariants(ipam, members, CONFIGS[config]!);
    for (const q of after.quarantine) assert.ok(q.until > now, `${q.address} should have left quarantine`);
  }

  // Releasing everything gives all capacity back once the quarantine has passed.
  for (const a of ipam.snapshot().allocations) ipam.release(a.key);
  for (const r of ipam.snapshot().reservations) ipam.unreserve(r.id);
  now += 2 * HOUR;
  const empty = checkInvariants(ipam, members, CONFIGS[config]!);
  assert.deepEqual([empty.allocations.length, empty.quarantine.length], [0, 0]);
  for (const row of ipam.capacity()) assert.equal(row.available, row.capacity);
}

describe('allocator under random command sequences', () => {
  it('keeps every invariant', () => {
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 80, size: 'max' }), (commands) =>
        run(commands),
      ),
      // Seeded in CI, random elsewhere (test/support/fast-check-seed.ts); FC_NUM_RUNS widens a local hunt.
      { numRuns: Number(process.env.FC_NUM_RUNS ?? 250) },
    );
  });
});

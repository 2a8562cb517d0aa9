import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Result } from '../errors/index.js';
import { createAllocator } from './allocator.js';
import type { Allocation, Allocator, AllocatorOptions, IpamError, IpamSnapshot, PoolSpec } from './types.js';

const HOUR = 3_600_000;

interface Rig {
  readonly ipam: Allocator;
  /** Moves the injected clock forward. */
  advance(ms: number): void;
}

function rig(
  pools: readonly PoolSpec[],
  options: Partial<AllocatorOptions> = {},
  snapshot?: IpamSnapshot,
): Rig {
  let now = 1_000_000;
  const made = createAllocator({ pools, now: () => now, ...options }, snapshot);
  if (!made.ok) throw new Error(made.error.message);
  return {
    ipam: made.value,
    advance: (ms) => {
      now += ms;
    },
  };
}

function value<T>(result: Result<T, IpamError>): T {
  if (!result.ok) assert.fail(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function failure<T>(result: Result<T, IpamError>, code: IpamError['code']): IpamError {
  assert.ok(!result.ok, `expected ${code}`);
  assert.equal(result.error.code, code, result.error.message);
  return result.error;
}

function addresses(result: Result<Allocation, IpamError>): readonly string[] {
  return value(result).addresses;
}

/** Snapshots compared modulo ordering. */
function canonical(snapshot: IpamSnapshot): unknown {
  const sortBy = <T>(items: readonly T[], key: (item: T) => string): T[] =>
    [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return {
    allocations: sortBy(snapshot.allocations, (a) => a.key).map((a) => ({
      ...a,
      ports: sortBy(a.ports, (p) => `${p.port}/${p.protocol}`),
    })),
    quarantine: sortBy(snapshot.quarantine, (q) => q.address),
    reservations: sortBy(snapshot.reservations, (r) => r.id),
  };
}

const small: PoolSpec[] = [{ name: 'doc', addresses: ['192.0.2.0/30', '2001:db8::/126'] }];

describe('allocation', () => {
  it('gives each key the lowest free address, idempotently', () => {
    const { ipam } = rig(small);
    assert.deepEqual(addresses(ipam.allocate({ key: 'a', owner: 'o' })), ['192.0.2.0']);
    assert.deepEqual(addresses(ipam.allocate({ key: 'b', owner: 'o' })), ['192.0.2.1']);
    assert.deepEqual(addresses(ipam.allocate({ key: 'a', owner: 'o' })), ['192.0.2.0']);
    assert.deepEqual(value(ipam.allocate({ key: 'c', owner: 'o', family: 'dual' })), {
      key: 'c',
      owner: 'o',
      pool: 'doc',
      addresses: ['192.0.2.2', '2001:db8::'],
      ports: [],
    });
    assert.deepEqual(addresses(ipam.allocate({ key: 'd', owner: 'o', family: 'v6' })), ['2001:db8::1']);
    assert.equal(ipam.lookup('c')?.addresses[1], '2001:db8::');
    assert.equal(ipam.lookup('zzz'), undefined);
  });

  it('fills pools in order and keeps autoAssign=false pools for explicit requests', () => {
    const { ipam } = rig([
      { name: 'first', addresses: ['192.0.2.0/31'] },
      { name: 'manual', addresses: ['198.51.100.0/31'], autoAssign: false },
      { name: 'second', addresses: ['203.0.113.0/31'] },
    ]);
    const got = ['a', 'b', 'c', 'd'].map((key) => value(ipam.allocate({ key, owner: 'o' })));
    assert.deepEqual(
      got.map((a) => `${a.pool}:${a.addresses[0]}`),
      ['first:192.0.2.0', 'first:192.0.2.1', 'second:203.0.113.0', 'second:203.0.113.1'],
    );
    failure(ipam.allocate({ key: 'e', owner: 'o' }), 'POOL_EXHAUSTED');
    assert.deepEqual(addresses(ipam.allocate({ key: 'e', owner: 'o', pool: 'manual' })), ['198.51.100.0']);
    assert.deepEqual(addresses(ipam.allocate({ key: 'f', owner: 'o', addresses: ['198.51.100.1'] })), [
      '198.51.100.1',
    ]);
  });

  it('names the problem with a request: unknown pool, missing family, changed request', () => {
    const { ipam } = rig([
      { name: 'v4only', addresses: ['192.0.2.0/29'] },
      { name: 'v6manual', addresses: ['2001:db8::/120'], autoAssign: false },
    ]);
    failure(ipam.allocate({ key: 'a', owner: 'o', pool: 'nope' }), 'POOL_NOT_FOUND');
    failure(ipam.allocate({ key: 'a', owner: 'o', family: 'v6' }), 'FAMILY_MISMATCH');
    failure(ipam.allocate({ key: 'a', owner: 'o', family: 'dual' }), 'FAMILY_MISMATCH');
    failure(ipam.allocate({ key: 'a', owner: 'o', pool: 'v4only', family: 'v6' }), 'FAMILY_MISMATCH');
    value(ipam.allocate({ key: 'a', owner: 'o' }));
    failure(ipam.allocate({ key: 'a', owner: 'o', family: 'v6' }), 'FAMILY_MISMATCH');
    failure(ipam.allocate({ key: 'a', owner: 'someone-else' }), 'IP_IN_USE');
    failure(ipam.allocate({ key: 'a', owner: 'o', pool: 'v6manual' }), 'NOT_IN_POOL');
    failure(ipam.allocate({ key: 'a', owner: 'o', addresses: ['192.0.2.5'] }), 'IP_IN_USE');
    value(ipam.allocate({ key: 'a', owner: 'o', addresses: ['192.0.2.0'] }));
  });

  it('reports exhaustion, counting the quarantined addresses that cause it', () => {
    const { ipam } = rig([{ name: 'tiny', addresses: ['203.0.113.7'] }]);
    value(ipam.allocate({ key: 'a', owner: 'o' }));
    failure(ipam.allocate({ key: 'b', owner: 'o' }), 'POOL_EXHAUSTED');
    value(ipam.release('a'));
    const error = failure(ipam.allocate({ key: 'b', owner: 'p' }), 'POOL_EXHAUSTED');
    assert.match(error.message, /1 released addresses are still in quarantine/);
  });

  it('allocates in an IPv6 /64 without walking it, and pins anywhere inside', () => {
    const { ipam } = rig([{ name: 'six', addresses: ['2001:db8:1::/64'] }]);
    const top = '2001:db8:1:0:ffff:ffff:ffff:ffff';
    assert.deepEqual(addresses(ipam.allocate({ key: 'pin', owner: 'o', addresses: [top] })), [top]);
    assert.deepEqual(addresses(ipam.allocate({ key: 'a', owner: 'o', family: 'v6' })), ['2001:db8:1::']);
    assert.equal(ipam.holderOf(top)?.key, 'pin');
    const [row] = ipam.capacity();
    assert.equal(row?.capacity, 1n << 64n);
    assert.equal(row?.available, (1n << 64n) - 2n);
    const again = rig([{ name: 'six', addresses: ['2001:db8:1::/64'] }], {}, ipam.snapshot());
    assert.deepEqual(canonical(again.ipam.snapshot()), canonical(ipam.snapshot()));
    value(again.ipam.release('pin'));
    assert.equal(again.ipam.capacity()[0]?.quarantined, 1n);
  });
});

describe('pins', () => {
  const pools: PoolSpec[] = [
    { name: 'a', addresses: ['192.0.2.0/24'], exclude: ['192.0.2.10'], avoidBuggyIPs: true },
    { name: 'b', addresses: ['198.51.100.0/24', '2001:db8::/120'] },
  ];

  it('grants free addresses and refuses held, outside, excluded and buggy ones', () => {
    const { ipam } = rig(pools);
    assert.deepEqual(addresses(ipam.allocate({ key: 'k1', owner: 'o', addresses: ['192.0.2.5'] })), [
      '192.0.2.5',
    ]);
    failure(ipam.allocate({ key: 'k2', owner: 'o', addresses: ['192.0.2.5'] }), 'IP_IN_USE');
    failure(ipam.allocate({ key: 'k2', owner: 'o', addresses: ['203.0.113.1'] }), 'NOT_IN_POOL');
    failure(ipam.allocate({ key: 'k2', owner: 'o', addresses: ['192.0.2.10'] }), 'NOT_IN_POOL');
    failure(ipam.allocate({ key: 'k2', owner: 'o', addresses: ['192.0.2.255'] }), 'NOT_IN_POOL');
    failure(ipam.allocate({ key: 'k2', owner: 'o', addresses: ['192.0.2.0'] }), 'NOT_IN_POOL');
    failure(ipam.allocate({ key: 'k2', owner: 'o', pool: 'b', addresses: ['192.0.2.6'] }), 'NOT_IN_POOL');
    failure(ipam.allocate({ key: 'k2', owner: 'o', addresses: ['192.0.2.06'] }), 'INVALID_ADDRESS');
    failure(
      ipam.allocate({ key: 'k2', owner: 'o', family: 'v6', addresses: ['192.0.2.6'] }),
      'FAMILY_MISMATCH',
    );
    failure(
      ipam.allocate({ key: 'k2', owner: 'o', addresses: ['192.0.2.6', '192.0.2.7'] }),
      'FAMILY_MISMATCH',
    );
  });

  it('pins one address per family from one pool for dual', () => {
    const { ipam } = rig(pools);
    failure(ipam.allocate({ key: 'd', owner: 'o', addresses: ['192.0.2.6', '2001:db8::6'] }), 'NOT_IN_POOL');
    const dual = value(ipam.allocate({ key: 'd', owner: 'o', addresses: ['2001:db8::6', '198.51.100.6'] }));
    assert.deepEqual(dual.addresses, ['198.51.100.6', '2001:db8::6']);
    assert.equal(dual.pool, 'b');
    failure(
      ipam.allocate({ key: 'e', owner: 'o', family: 'dual', addresses: ['198.51.100.7'] }),
      'FAMILY_MISMATCH',
    );
  });

  it('skips buggy and excluded addresses when choosing', () => {
    const { ipam } = rig(pools);
    const got = Array.from(
      { length: 10 },
      (_, i) => addresses(ipam.allocate({ key: `k${i}`, owner: 'o' }))[0],
    );
    assert.equal(got[0], '192.0.2.1');
    assert.equal(got[9], '192.0.2.11');
  });
});

describe('quarantine', () => {
  it('keeps a released address from other owners, but gives it back to its key and owner', () => {
    const { ipam, advance } = rig(small);
    value(ipam.allocate({ key: 'web', owner: 'alice' }));
    value(ipam.release('web'));
    assert.equal(ipam.lookup('web'), undefined);
    assert.equal(ipam.holderOf('192.0.2.0'), undefined);
    assert.deepEqual(addresses(ipam.allocate({ key: 'other', owner: 'bob' })), ['192.0.2.1']);
    failure(ipam.allocate({ key: 'x', owner: 'bob', addresses: ['192.0.2.0'] }), 'QUARANTINED');
    advance(HOUR - 1);
    assert.deepEqual(addresses(ipam.allocate({ key: 'web', owner: 'alice' })), ['192.0.2.0']);
    value(ipam.release('web'));
    assert.deepEqual(addresses(ipam.allocate({ key: 'api', owner: 'alice', addresses: ['192.0.2.0'] })), [
      '192.0.2.0',
    ]);
    value(ipam.release('api'));
    advance(HOUR);
    assert.deepEqual(addresses(ipam.allocate({ key: 'x', owner: 'bob', addresses: ['192.0.2.0'] })), [
      '192.0.2.0',
    ]);
  });

  it('gives a dual key both addresses back, and not when the request changed', () => {
    const { ipam } = rig(small);
    value(ipam.allocate({ key: 'd', owner: 'o', family: 'dual' }));
    value(ipam.release('d'));
    assert.deepEqual(addresses(ipam.allocate({ key: 'd', owner: 'o', family: 'dual' })), [
      '192.0.2.0',
      '2001:db8::',
    ]);
    value(ipam.release('d'));
    assert.deepEqual(addresses(ipam.allocate({ key: 'd', owner: 'o' })), ['192.0.2.1']);
    // The owner can still pin one of the cooling addresses, which splits the quarantined pair.
    assert.deepEqual(addresses(ipam.allocate({ key: 'e', owner: 'o', addresses: ['2001:db8::'] })), [
      '2001:db8::',
    ]);
    const snapshot = ipam.snapshot();
    assert.deepEqual(
      snapshot.quarantine.map((q) => q.address),
      ['192.0.2.0'],
    );
  });

  it('expires on time and honours a zero cool-down', () => {
    const { ipam, advance } = rig(small, { quarantineMs: 10 });
    value(ipam.allocate({ key: 'a', owner: 'o' }));
    value(ipam.release('a'));
    assert.equal(ipam.capacity()[0]?.quarantined, 1n);
    advance(10);
    assert.equal(ipam.capacity()[0]?.quarantined, 0n);
    assert.deepEqual(addresses(ipam.allocate({ key: 'b', owner: 'p' })), ['192.0.2.0']);
    const zero = rig(small, { quarantineMs: 0 }).ipam;
    value(zero.allocate({ key: 'a', owner: 'o' }));
    value(zero.release('a'));
    assert.deepEqual(addresses(zero.allocate({ key: 'b', owner: 'p' })), ['192.0.2.0']);
    assert.throws(() => createAllocator({ pools: small, quarantineMs: -1 }), RangeError);
  });

  it('expires a slot once even when it was reused with the same deadline', () => {
    const { ipam, advance } = rig([{ name: 'p', addresses: ['192.0.2.0/30'] }]);
    value(ipam.allocate({ key: 'a', owner: 'o', addresses: ['192.0.2.3'] }));
    value(ipam.release('a'));
    // Shrinking the pool drops that quarantine; its slot is reused and released at the same instant.
    value(ipam.setPools([{ name: 'p', addresses: ['192.0.2.0/31'] }]));
    value(ipam.allocate({ key: 'b', owner: 'o' }));
    value(ipam.release('b'));
    advance(HOUR);
    assert.deepEqual(ipam.snapshot().quarantine, []);
    assert.equal(ipam.capacity()[0]?.available, 2n);
  });

  it('expires a mass release in one sweep, past reclaimed and re-released slots', () => {
    const { ipam, advance } = rig([{ name: 'p', addresses: ['2001:db8::/116'] }]);
    const keys = Array.from({ length: 3000 }, (_, i) => `k${i}`);
    for (const key of keys) value(ipam.allocate({ key, owner: 'o', family: 'v6' }));
    for (const key of keys) value(ipam.release(key));
    // Keys 0-499 come back (their deadlines go stale); 0-249 leave again a moment later (listed twice).
    for (const key of keys.slice(0, 500)) value(ipam.allocate({ key, owner: 'o', family: 'v6' }));
    advance(1);
    for (const key of keys.slice(0, 250)) value(ipam.release(key));
    advance(HOUR - 1);
    const [row] = ipam.capacity();
    assert.equal(row?.allocated, 250n);
    assert.equal(row?.quarantined, 250n);
    assert.equal(ipam.lookup('k2999'), undefined);
    assert.deepEqual(addresses(ipam.allocate({ key: 'new', owner: 'p', family: 'v6' })), ['2001:db8::1f4']);
    assert.deepEqual(addresses(ipam.allocate({ key: 'k0', owner: 'o', family: 'v6' })), ['2001:db8::']);
    assert.deepEqual(ipam.lookup('k499')?.addresses, ['2001:db8::1f3']);
  });

  it('lets a hidden release resurface when the key that hid it moves away', () => {
    const { ipam } = rig(small);
    value(ipam.allocate({ key: 'k', owner: 'o' }));
    value(ipam.release('k'));
    // A different request shape cannot reclaim, so it takes a fresh address and hides the release.
    value(ipam.allocate({ key: 'k', owner: 'o', family: 'v6' }));
    value(ipam.transfer('k', 'k2', 'o'));
    assert.deepEqual(addresses(ipam.allocate({ key: 'k', owner: 'o' })), ['192.0.2.0']);
  });

  it('keeps every release of a key reclaimable after a later release of it goes away', () => {
    const narrow: PoolSpec[] = [{ name: 'p', addresses: ['192.0.2.1-192.0.2.2'] }];
    const wide: PoolSpec[] = [{ name: 'p', addresses: ['192.0.2.0/30'] }];
    const { ipam } = rig(narrow);
    value(ipam.allocate({ key: 'k', owner: 'alice' }));
    value(ipam.release('k'));
    value(ipam.setPools(wide));
    // Another owner reuses the key name and releases it too: two releases of one key cool down at once.
    assert.deepEqual(addresses(ipam.allocate({ key: 'k', owner: 'bob' })), ['192.0.2.0']);
    value(ipam.release('k'));
    // Shrinking the pool drops the later release; the earlier one is the key's latest again.
    value(ipam.setPools(narrow));
    assert.deepEqual(addresses(ipam.allocate({ key: 'k', owner: 'alice' })), ['192.0.2.1']);
    assert.deepEqual(ipam.snapshot().quarantine, []);
  });

  it('hands a key back to its previous release when the latest one is pinned away or restored', () => {
    const { ipam } = rig(small);
    value(ipam.allocate({ key: 'k', owner: 'o' }));
    value(ipam.release('k'));
    assert.deepEqual(addresses(ipam.allocate({ key: 'k', owner: 'o', family: 'v6' })), ['2001:db8::']);
    value(ipam.release('k'));
    const again = rig(small, {}, ipam.snapshot()).ipam;
    for (const allocator of [ipam, again]) {
      // The owner pins the latest release's address for another key; the key's IPv4 release remains.
      value(allocator.allocate({ key: 'other', owner: 'o', addresses: ['2001:db8::'] }));
      assert.deepEqual(addresses(allocator.allocate({ key: 'k', owner: 'o' })), ['192.0.2.0']);
    }
  });

  it('survives a clock that steps back', () => {
    let now = 10 * HOUR;
    const ipam = value(createAllocator({ pools: small, now: () => now }));
    value(ipam.allocate({ key: 'a', owner: 'o' }));
    value(ipam.release('a'));
    now = 5 * HOUR;
    value(ipam.allocate({ key: 'b', owner: 'o' }));
    value(ipam.release('b'));
    now = 6 * HOUR + 1;
    assert.deepEqual(
      ipam.snapshot().quarantine.map((q) => q.key),
      ['a'],
    );
  });
});

describe('ports', () => {
  it('binds each (port, protocol) once per key; TCP and UDP are distinct', () => {
    const { ipam } = rig(small);
    value(ipam.allocate({ key: 'a', owner: 'o' }));
    value(ipam.bind('a', { port: 443, protocol: 'TCP' }));
    value(ipam.bind('a', { port: 80, protocol: 'TCP' }));
    const both = value(ipam.bind('a', { port: 443, protocol: 'UDP' }));
    assert.deepEqual(both.ports, [
      { port: 80, protocol: 'TCP' },
      { port: 443, protocol: 'TCP' },
      { port: 443, protocol: 'UDP' },
    ]);
    failure(ipam.bind('a', { port: 443, protocol: 'TCP' }), 'PORT_IN_USE');
    failure(ipam.bind('nobody', { port: 1, protocol: 'TCP' }), 'NOT_FOUND');
    assert.throws(() => ipam.bind('a', { port: 0, protocol: 'TCP' }), RangeError);
    assert.throws(() => ipam.bind('a', { port: 70000, protocol: 'TCP' }), RangeError);
  });

  it('releases the address with the last binding unless told to keep it', () => {
    const { ipam } = rig(small);
    value(ipam.allocate({ key: 'a', owner: 'o' }));
    value(ipam.bind('a', { port: 80, protocol: 'TCP' }));
    value(ipam.bind('a', { port: 53, protocol: 'UDP' }));
    assert.equal(value(ipam.unbind('a', { port: 80, protocol: 'TCP' }))?.ports.length, 1);
    assert.equal(value(ipam.unbind('a', { port: 9, protocol: 'TCP' }))?.ports.length, 1);
    assert.equal(
      value(ipam.unbind('a', { port: 53, protocol: 'UDP' }, { keepAddress: true }))?.ports.length,
      0,
    );
    assert.deepEqual(ipam.lookup('a')?.addresses, ['192.0.2.0']);
    value(ipam.bind('a', { port: 53, protocol: 'UDP' }));
    assert.equal(value(ipam.unbind('a', { port: 53, protocol: 'UDP' })), undefined);
    assert.equal(ipam.lookup('a'), undefined);
    assert.equal(ipam.snapshot().quarantine.length, 1);
    failure(ipam.unbind('a', { port: 53, protocol: 'UDP' }), 'NOT_FOUND');
  });
});

describe('release and transfer', () => {
  it('release is idempotent', () => {
    const { ipam } = rig(small);
    value(ipam.release('never'));
    value(ipam.allocate({ key: 'a', owner: 'o' }));
    value(ipam.release('a'));
    value(ipam.release('a'));
    assert.equal(ipam.snapshot().quarantine.length, 1);
  });

  it('moves addresses and ports to another key and owner without releasing them', () => {
    const { ipam } = rig(small);
    value(ipam.allocate({ key: 'old', owner: 'alice', family: 'dual' }));
    value(ipam.bind('old', { port: 22, protocol: 'TCP' }));
    value(ipam.allocate({ key: 'busy', owner: 'bob' }));
    failure(ipam.transfer('old', 'busy', 'bob'), 'IP_IN_USE');
    failure(ipam.transfer('missing', 'x', 'bob'), 'NOT_FOUND');
    const moved = value(ipam.transfer('old', 'new', 'bob'));
    assert.deepEqual(moved, {
      key: 'new',
      owner: 'bob',
      pool: 'doc',
      addresses: ['192.0.2.0', '2001:db8::'],
      ports: [{ port: 22, protocol: 'TCP' }],
    });
    assert.equal(ipam.lookup('old'), undefined);
    assert.equal(ipam.holderOf('2001:db8::')?.key, 'new');
    assert.equal(ipam.snapshot().quarantine.length, 0);
    // The new owner is the one who may reclaim after a release.
    value(ipam.release('new'));
    failure(ipam.allocate({ key: 'x', owner: 'alice', addresses: ['192.0.2.0'] }), 'QUARANTINED');
    value(ipam.allocate({ key: 'new', owner: 'bob', family: 'dual' }));
  });
});

describe('reservations and capacity', () => {
  const pools: PoolSpec[] = [
    { name: 'a', addresses: ['192.0.2.0/29'] },
    { name: 'b', addresses: ['198.51.100.0/30'] },
    { name: 'm', addresses: ['203.0.113.0/30'], autoAssign: false },
  ];

  it('holds capacity for bids and counts it in every figure', () => {
    const { ipam } = rig(pools);
    assert.equal(ipam.available(), 12n);
    value(ipam.reserve('bid-1', 10));
    assert.equal(ipam.available(), 2n);
    const error = failure(ipam.reserve('bid-2', 3), 'POOL_EXHAUSTED');
    assert.deepEqual(error.details, { requested: 3, available: '2', family: 'v4' });
    value(ipam.reserve('bid-1', 4));
    assert.equal(ipam.available(), 8n);
    assert.deepEqual(
      ipam.capacity().map((c) => [c.pool, c.capacity, c.allocated, c.reserved, c.quarantined, c.available]),
      [
        ['a', 8n, 0n, 4n, 0n, 4n],
        ['b', 4n, 0n, 0n, 0n, 4n],
        ['m', 4n, 0n, 0n, 0n, 4n],
      ],
    );
    ipam.unreserve('bid-1');
    ipam.unreserve('bid-1');
    assert.equal(ipam.available(), 12n);
    assert.equal(ipam.available('v6'), 0n);
    failure(ipam.reserve('v6', 1, 'v6'), 'POOL_EXHAUSTED');
    assert.throws(() => ipam.reserve('bad', -1), RangeError);
  });

  it('keeps reserved capacity from unrelated allocations, and lets the bid that holds it through', () => {
    const { ipam } = rig([{ name: 'a', addresses: ['192.0.2.0/30'] }]);
    value(ipam.reserve('bid', 3));
    value(ipam.allocate({ key: 'free', owner: 'o' }));
    failure(ipam.allocate({ key: 'x', owner: 'o' }), 'POOL_EXHAUSTED');
    failure(ipam.allocate({ key: 'x', owner: 'o', addresses: ['192.0.2.3'] }), 'POOL_EXHAUSTED');
    value(ipam.allocate({ key: 'won', owner: 'o', reservation: 'bid' }));
    assert.deepEqual(ipam.snapshot().reservations, [{ id: 'bid', count: 2, family: 'v4' }]);
    assert.equal(ipam.available(), 0n);
    value(ipam.allocate({ key: 'won2', owner: 'o', reservation: 'bid', addresses: ['192.0.2.3'] }));
    assert.deepEqual(ipam.snapshot().reservations, [{ id: 'bid', count: 1, family: 'v4' }]);
  });

  it('holds one address of each family per count of a dual reservation, and names the family that ran out', () => {
    const { ipam } = rig([{ name: 'd', addresses: ['192.0.2.0/30', '2001:db8::/125'] }]);
    value(ipam.reserve('dual', 3, 'dual'));
    assert.deepEqual([ipam.available('v4'), ipam.available('v6')], [1n, 5n]);
    const v4 = failure(ipam.reserve('more', 2, 'dual'), 'POOL_EXHAUSTED');
    assert.equal(v4.details?.family, 'v4');
    // the IPv4 shortage does not touch IPv6-only reservations
    value(ipam.reserve('six', 5, 'v6'));
    const v6 = failure(ipam.reserve('more', 1, 'dual'), 'POOL_EXHAUSTED');
    assert.equal(v6.details?.family, 'v6');
    // re-reserving replaces the hold, in either family
    value(ipam.reserve('dual', 1, 'dual'));
    assert.deepEqual([ipam.available('v4'), ipam.available('v6')], [3n, 2n]);
    // IPv6 now fully held: only the dual reservation's own allocation may take an IPv6 address
    value(ipam.reserve('six', 7, 'v6'));
    failure(ipam.allocate({ key: 'x', owner: 'o', family: 'v6' }), 'POOL_EXHAUSTED');
    // an IPv4 allocation does not fulfil a count of a dual reservation (it would leave the IPv6 half held)
    value(ipam.allocate({ key: 'half', owner: 'o', reservation: 'dual' }));
    assert.deepEqual(ipam.snapshot().reservations.find((r) => r.id === 'dual')?.count, 1);
    value(ipam.allocate({ key: 'won', owner: 'o', family: 'dual', reservation: 'dual' }));
    assert.deepEqual(
      ipam.snapshot().reservations.map((r) => [r.id, r.count, r.family]),
      [
        ['dual', 0, 'dual'],
        ['six', 7, 'v6'],
      ],
    );
    assert.deepEqual([ipam.available('v4'), ipam.available('v6')], [2n, 0n]);
    ipam.unreserve('six');
    assert.equal(ipam.available('v6'), 7n);
  });

  it('restores dual reservations from a snapshot', () => {
    const pools = [{ name: 'd', addresses: ['192.0.2.0/30', '2001:db8::/125'] }];
    const { ipam } = rig(
      pools,
      {},
      { allocations: [], quarantine: [], reservations: [{ id: 'r', count: 2, family: 'dual' }] },
    );
    assert.deepEqual([ipam.available('v4'), ipam.available('v6')], [2n, 6n]);
    ipam.unreserve('r');
    assert.deepEqual([ipam.available('v4'), ipam.available('v6')], [4n, 8n]);
  });

  it('counts allocated and quarantined addresses per pool and family', () => {
    const { ipam } = rig([{ name: 'd', addresses: ['192.0.2.0/29', '2001:db8::/125'] }]);
    value(ipam.allocate({ key: 'a', owner: 'o', family: 'dual' }));
    value(ipam.allocate({ key: 'b', owner: 'o' }));
    value(ipam.release('b'));
    assert.deepEqual(ipam.capacity(), [
      { pool: 'd', family: 'v4', capacity: 8n, allocated: 1n, reserved: 0n, quarantined: 1n, available: 6n },
      { pool: 'd', family: 'v6', capacity: 8n, allocated: 1n, reserved: 0n, quarantined: 0n, available: 7n },
    ]);
    assert.equal(ipam.available('v6'), 7n);
  });
});

describe('setPools', () => {
  it('grows and shrinks pools, keeping and reporting allocations left outside', () => {
    const { ipam } = rig([{ name: 'p', addresses: ['192.0.2.0/29'] }]);
    for (const key of ['a', 'b', 'c', 'd']) value(ipam.allocate({ key, owner: 'o' }));
    value(ipam.bind('d', { port: 80, protocol: 'TCP' }));
    value(ipam.release('c'));
    const grown = value(ipam.setPools([{ name: 'p', addresses: ['192.0.2.0/28'] }]));
    assert.deepEqual(grown.orphaned, []);
    assert.equal(ipam.capacity()[0]?.capacity, 16n);
    assert.equal(ipam.capacity()[0]?.quarantined, 1n);

    const shrunk = value(ipam.setPools([{ name: 'p', addresses: ['192.0.2.0/31'], exclude: ['192.0.2.1'] }]));
    assert.deepEqual(
      shrunk.orphaned.map((a) => [a.key, a.addresses[0], a.pool, a.ports.length]),
      [
        ['b', '192.0.2.1', 'p', 0],
        ['d', '192.0.2.3', 'p', 1],
      ],
    );
    assert.equal(ipam.lookup('d')?.addresses[0], '192.0.2.3');
    assert.equal(ipam.holderOf('192.0.2.3')?.key, 'd');
    assert.deepEqual(ipam.capacity()[0], {
      pool: 'p',
      family: 'v4',
      capacity: 1n,
      allocated: 1n,
      reserved: 0n,
      quarantined: 0n,
      available: 0n,
    });
    // An orphan's address is outside every pool, so nobody else can be given it.
    failure(ipam.allocate({ key: 'x', owner: 'o', addresses: ['192.0.2.3'] }), 'NOT_IN_POOL');

    const back = value(ipam.setPools([{ name: 'q', addresses: ['192.0.2.0/29'] }]));
    assert.deepEqual(back.orphaned, []);
    assert.equal(ipam.lookup('d')?.pool, 'q');
    value(ipam.release('b'));
    assert.equal(ipam.capacity()[0]?.quarantined, 1n);

    value(ipam.setPools([{ name: 'q', addresses: ['198.51.100.0/29'] }]));
    value(ipam.release('d'));
    assert.equal(ipam.holderOf('192.0.2.3'), undefined);
    assert.deepEqual(ipam.snapshot().quarantine, []);
  });

  it('refuses a bad pool set and changes nothing', () => {
    const { ipam } = rig(small);
    value(ipam.allocate({ key: 'a', owner: 'o' }));
    const before = ipam.snapshot();
    failure(
      ipam.setPools([
        { name: 'x', addresses: ['192.0.2.0/24'] },
        { name: 'y', addresses: ['192.0.2.128/25'] },
      ]),
      'POOL_OVERLAP',
    );
    assert.deepEqual(ipam.snapshot(), before);
    assert.equal(ipam.capacity()[0]?.capacity, 4n);
  });
});

describe('snapshot and restore', () => {
  const pools: PoolSpec[] = [
    { name: 'a', addresses: ['192.0.2.0/28', '2001:db8::/64'] },
    { name: 'b', addresses: ['198.51.100.0/29'], autoAssign: false },
  ];

  function populated(): Rig {
    const r = rig(pools);
    const { ipam } = r;
    value(ipam.allocate({ key: 'k1', owner: 'o1', family: 'dual' }));
    value(ipam.bind('k1', { port: 443, protocol: 'TCP' }));
    value(ipam.bind('k1', { port: 443, protocol: 'UDP' }));
    value(ipam.allocate({ key: 'k2', owner: 'o2', pool: 'b' }));
    value(ipam.allocate({ key: 'k3', owner: 'o1', family: 'dual' }));
    value(ipam.release('k3'));
    value(ipam.allocate({ key: 'k4', owner: 'o2', addresses: ['2001:db8::ffff:0:0:1'] }));
    value(ipam.reserve('bid', 2));
    value(ipam.reserve('bid6', 0, 'v6'));
    return r;
  }

  it('restores a state whose snapshot equals the one it came from', () => {
    const { ipam } = populated();
    const snapshot = ipam.snapshot();
    const restored = rig(pools, {}, snapshot).ipam;
    assert.deepEqual(canonical(restored.snapshot()), canonical(snapshot));
    assert.deepEqual(restored.capacity(), ipam.capacity());
    // The restored quarantine still works by key.
    assert.deepEqual(addresses(restored.allocate({ key: 'k3', owner: 'o1', family: 'dual' })), [
      '192.0.2.1',
      '2001:db8::1',
    ]);
    const shuffled: IpamSnapshot = {
      allocations: [...snapshot.allocations].reverse(),
      quarantine: [...snapshot.quarantine].reverse(),
      reservations: [...snapshot.reservations].reverse(),
    };
    assert.deepEqual(canonical(rig(pools, {}, shuffled).ipam.snapshot()), canonical(snapshot));
  });

  it('keeps allocations outside the configured pools as orphans; quarantine cools on inside them only', () => {
    const snapshot = populated().ipam.snapshot();
    const narrower = rig([{ name: 'a', addresses: ['192.0.2.0/28'] }], {}, snapshot).ipam;
    const after = narrower.snapshot();
    assert.deepEqual(after.allocations.map((a) => a.key).sort(), ['k1', 'k2', 'k4']);
    assert.equal(narrower.lookup('k2')?.pool, 'b');
    assert.equal(narrower.lookup('k1')?.pool, 'a');
    assert.deepEqual(
      after.quarantine.map((q) => q.address),
      ['192.0.2.1'],
    );
    // k1's IPv4 half is still inside pool a: held there, never handed out twice.
    assert.equal(narrower.holderOf('192.0.2.0')?.key, 'k1');
    assert.equal(narrower.capacity()[0]?.allocated, 1n);
    failure(narrower.allocate({ key: 'x', owner: 'o9', addresses: ['192.0.2.0'] }), 'IP_IN_USE');
    assert.deepEqual(addresses(narrower.allocate({ key: 'x', owner: 'o9' })), ['192.0.2.2']);
    const reported = value(narrower.setPools([{ name: 'a', addresses: ['192.0.2.0/28'] }])).orphaned;
    assert.deepEqual(reported.map((a) => a.key).sort(), ['k1', 'k2', 'k4']);
    // Releasing the orphan puts its in-pool half into quarantine, like any release.
    value(narrower.release('k1'));
    assert.deepEqual(
      narrower
        .snapshot()
        .quarantine.map((q) => q.address)
        .sort(),
      ['192.0.2.0', '192.0.2.1'],
    );
    failure(narrower.allocate({ key: 'y', owner: 'o9', addresses: ['192.0.2.0'] }), 'QUARANTINED');
  });

  it('refuses a snapshot that conflicts with itself', () => {
    const base: IpamSnapshot = { allocations: [], quarantine: [], reservations: [] };
    const alloc = (key: string, address: string): Allocation => ({
      key,
      owner: 'o',
      pool: 'a',
      addresses: [address],
      ports: [],
    });
    const attempt = (snapshot: IpamSnapshot) => createAllocator({ pools }, snapshot);
    failure(
      attempt({ ...base, allocations: [alloc('x', '192.0.2.1'), alloc('x', '192.0.2.2')] }),
      'IP_IN_USE',
    );
    failure(
      attempt({ ...base, allocations: [alloc('x', '192.0.2.1'), alloc('y', '192.0.2.1')] }),
      'IP_IN_USE',
    );
    failure(
      attempt({ ...base, allocations: [alloc('x', '203.0.113.1'), alloc('y', '203.0.113.1')] }),
      'IP_IN_USE',
    );
    failure(
      attempt({
        ...base,
        allocations: [alloc('x', '192.0.2.1')],
        quarantine: [{ address: '192.0.2.1', pool: 'a', owner: 'o', key: 'q', until: 1 }],
      }),
      'IP_IN_USE',
    );
    failure(attempt({ ...base, allocations: [alloc('x', '192.0.2.001')] }), 'INVALID_ADDRESS');
    failure(
      attempt({
        ...base,
        allocations: [{ ...alloc('x', '192.0.2.1'), addresses: ['192.0.2.1', '192.0.2.2'] }],
      }),
      'FAMILY_MISMATCH',
    );
    failure(
      attempt({
        ...base,
        allocations: [
          {
            ...alloc('x', '192.0.2.1'),
            ports: [
              { port: 80, protocol: 'TCP' },
              { port: 80, protocol: 'TCP' },
            ],
          },
        ],
      }),
      'PORT_IN_USE',
    );
    failure(
      createAllocator({
        pools: [
          { name: 'a', addresses: ['192.0.2.0/24'] },
          { name: 'a', addresses: [] },
        ],
      }),
      'POOL_OVERLAP',
    );
  });
});

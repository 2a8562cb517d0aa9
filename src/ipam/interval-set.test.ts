import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containsCidr, excludeCidr, mergeCidr, overlapCidr, parseCidr } from 'cidr-tools';
import fc from 'fast-check';
import { formatAddress } from './address.js';
import {
  contains,
  firstAtOrAfter,
  fromCidr,
  fromRange,
  IndexedIntervals,
  type Interval,
  type IntervalSet,
  intersect,
  normalize,
  size,
  subtract,
  union,
} from './interval-set.js';

/** Random CIDRs inside a documentation block: IPv4 within 192.0.2.0/24, IPv6 within 2001:db8::/32. */
const v4Cidr = fc
  .record({ length: fc.integer({ min: 24, max: 32 }), bits: fc.integer({ min: 0, max: 255 }) })
  .map(({ length, bits }) => {
    const host = 32 - length;
    return `${formatAddress('v4', 0xc0000200n | BigInt((bits >> host) << host))}/${length}`;
  });
const v6Cidr = fc
  .record({ length: fc.integer({ min: 32, max: 128 }), bits: fc.bigInt({ min: 0n, max: (1n << 96n) - 1n }) })
  .map(({ length, bits }) => {
    const host = BigInt(128 - length);
    return `${formatAddress('v6', (0x20010db8n << 96n) | ((bits >> host) << host))}/${length}`;
  });
/** Small /116-and-longer IPv6 blocks clustered together, so sets actually touch and overlap. */
const v6Near = fc
  .record({ length: fc.integer({ min: 116, max: 128 }), bits: fc.integer({ min: 0, max: 4095 }) })
  .map(({ length, bits }) => {
    const host = 128 - length;
    return `${formatAddress('v6', (0x20010db8n << 96n) | BigInt((bits >> host) << host))}/${length}`;
  });
const cidrSets = fc.oneof(
  fc.array(v4Cidr, { maxLength: 8 }),
  fc.array(v6Near, { maxLength: 8 }),
  fc.array(v6Cidr, { maxLength: 5 }),
);

function mine(cidrs: readonly string[]): IntervalSet {
  return union(
    [],
    cidrs.flatMap((c) => {
      const p = parseCidr(c);
      return fromCidr(p.start, Number(p.prefix), p.version === 4 ? 32 : 128);
    }),
  );
}

/** The oracle's answer as canonical intervals: cidr-tools CIDRs, merged where they touch. */
function oracle(cidrs: readonly string[]): Interval[] {
  const sorted = cidrs.map((c) => parseCidr(c)).sort((a, b) => (a.start < b.start ? -1 : 1));
  const out: Interval[] = [];
  for (const { start, end } of sorted) {
    const last = out.at(-1);
    if (last !== undefined && start <= last.end + 1n) out[out.length - 1] = { start: last.start, end };
    else out.push({ start, end });
  }
  return out;
}

function sameFamily(a: readonly string[], b: readonly string[]): boolean {
  return [...a, ...b].every((c) => c.includes(':')) || [...a, ...b].every((c) => !c.includes(':'));
}

describe('interval sets against cidr-tools', () => {
  it('union equals mergeCidr', () => {
    fc.assert(
      fc.property(cidrSets, cidrSets, (a, b) => {
        fc.pre(sameFamily(a, b) && a.length + b.length > 0);
        assert.deepEqual(union(mine(a), mine(b)), oracle(mergeCidr([...a, ...b])));
      }),
      { numRuns: 500 },
    );
  });

  it('subtract equals excludeCidr', () => {
    fc.assert(
      fc.property(cidrSets, cidrSets, (a, b) => {
        fc.pre(sameFamily(a, b) && a.length > 0 && b.length > 0);
        assert.deepEqual(subtract(mine(a), mine(b)), oracle(excludeCidr(a, b)));
      }),
      { numRuns: 500 },
    );
  });

  it('containment and overlap agree with containsCidr and overlapCidr', () => {
    fc.assert(
      fc.property(cidrSets, cidrSets, (a, b) => {
        fc.pre(sameFamily(a, b) && a.length > 0 && b.length > 0);
        const [x, y] = [mine(a), mine(b)];
        // containsCidr wants each of b inside one network of a, so a is merged first.
        assert.equal(size(subtract(y, x)) === 0n, containsCidr(mergeCidr(a), b));
        assert.equal(intersect(x, y).length > 0, overlapCidr(a, b));
        assert.equal(size(union(x, y)), size(x) + size(y) - size(intersect(x, y)));
      }),
      { numRuns: 500 },
    );
  });
});

describe('interval sets by brute force', () => {
  const small = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 8 })), { maxLength: 6 })
    .map((pairs) => normalize(pairs.map(([s, len]) => ({ start: BigInt(s), end: BigInt(s + len) }))));
  const members = (set: IntervalSet): bigint[] =>
    set.flatMap(({ start, end }) => {
      const out: bigint[] = [];
      for (let x = start; x <= end; x++) out.push(x);
      return out;
    });

  it('normal form: sorted, disjoint, never adjacent', () => {
    fc.assert(
      fc.property(small, (set) => {
        for (let i = 1; i < set.length; i++) assert.ok(set[i]!.start > set[i - 1]!.end + 1n);
        assert.equal(size(set), BigInt(members(set).length));
      }),
    );
  });

  it('nth, rank, contains and firstAtOrAfter match a listing of members', () => {
    fc.assert(
      fc.property(small, fc.integer({ min: 0, max: 80 }), (set, probe) => {
        const listing = members(set);
        const indexed = new IndexedIntervals(set);
        assert.equal(indexed.size, BigInt(listing.length));
        listing.forEach((x, k) => {
          assert.equal(indexed.nth(BigInt(k)), x);
          assert.equal(indexed.rank(x), BigInt(k));
        });
        const x = BigInt(probe);
        assert.equal(contains(set, x), listing.includes(x));
        assert.equal(indexed.rank(x), BigInt(listing.indexOf(x)));
        assert.equal(
          firstAtOrAfter(set, x),
          listing.find((m) => m >= x),
        );
      }),
    );
  });

  it('counts a /64 without walking it', () => {
    const net = fromCidr(0x20010db8n << 96n, 64, 128);
    assert.equal(size(net), 1n << 64n);
    const indexed = new IndexedIntervals(
      subtract(net, fromRange((0x20010db8n << 96n) + 5n, (0x20010db8n << 96n) + 9n)),
    );
    assert.equal(indexed.size, (1n << 64n) - 5n);
    assert.equal(indexed.nth(5n), (0x20010db8n << 96n) + 10n);
    assert.equal(indexed.rank((0x20010db8n << 96n) + 7n), -1n);
    assert.deepEqual(fromRange(5n, 4n), []);
  });
});

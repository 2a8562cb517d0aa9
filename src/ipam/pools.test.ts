import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { size } from './interval-set.js';
import { parsePoolSpec, parsePools } from './pools.js';
import type { PoolSpec } from './types.js';

function code(specs: readonly PoolSpec[]): string | undefined {
  const parsed = parsePools(specs);
  return parsed.ok ? undefined : parsed.error.code;
}

describe('parsePools', () => {
  it('builds per-family assignable sets with MetalLB defaults', () => {
    const parsed = parsePoolSpec({
      name: 'edge',
      addresses: ['192.0.2.0/28', '2001:db8::/64', '198.51.100.7'],
    });
    assert.ok(parsed.ok);
    assert.equal(parsed.value.autoAssign, true);
    assert.equal(parsed.value.avoidBuggyIPs, false);
    assert.equal(size(parsed.value.v4), 17n);
    assert.equal(size(parsed.value.v6), 1n << 64n);
  });

  it('rejects overlaps within and between pools, naming both ranges', () => {
    const within = parsePools([{ name: 'a', addresses: ['192.0.2.0/24', '192.0.2.100-192.0.2.110'] }]);
    assert.ok(!within.ok);
    assert.equal(within.error.code, 'POOL_OVERLAP');
    assert.match(within.error.message, /192\.0\.2\.100-192\.0\.2\.110/);
    assert.match(within.error.message, /192\.0\.2\.0\/24/);

    const between = parsePools([
      { name: 'a', addresses: ['2001:db8::/120'] },
      { name: 'b', addresses: ['2001:db8::ff-2001:db8::1ff'] },
    ]);
    assert.ok(!between.ok);
    assert.equal(between.error.code, 'POOL_OVERLAP');
    assert.deepEqual(between.error.details, {
      pool: 'b',
      range: '2001:db8::ff-2001:db8::1ff',
      otherPool: 'a',
      otherRange: '2001:db8::/120',
    });
    // Touching is not overlapping.
    assert.equal(
      code([
        { name: 'a', addresses: ['192.0.2.0/25'] },
        { name: 'b', addresses: ['192.0.2.128/25'] },
      ]),
      undefined,
    );
    assert.equal(
      code([
        { name: 'a', addresses: ['192.0.2.0/25'] },
        { name: 'a', addresses: ['198.51.100.0/24'] },
      ]),
      'POOL_OVERLAP',
    );
  });

  it('rejects malformed pools with INVALID_ADDRESS', () => {
    for (const spec of [
      { name: 'a', addresses: [] },
      { name: '', addresses: ['192.0.2.0/24'] },
      { name: 'a b', addresses: ['192.0.2.0/24'] },
      { name: 'a', addresses: ['192.0.2.1/24'] },
      { name: 'a', addresses: ['192.0.02.0/24'] },
      { name: 'a', addresses: ['192.0.2.10-192.0.2.1'] },
      { name: 'a', addresses: ['fe80::1%eth0'] },
      { name: 'a', addresses: ['192.0.2.0/24'], exclude: ['192.0.2.1/31'] },
    ]) {
      const parsed = parsePools([spec]);
      assert.ok(!parsed.ok, JSON.stringify(spec));
      assert.equal(parsed.error.code, 'INVALID_ADDRESS', JSON.stringify(spec));
    }
  });

  it('applies exclusions, which must lie inside the pool', () => {
    const parsed = parsePoolSpec({
      name: 'a',
      addresses: ['203.0.113.0/24', '2001:db8::/120'],
      exclude: ['203.0.113.0/30', '203.0.113.200', '2001:db8::10-2001:db8::1f'],
    });
    assert.ok(parsed.ok);
    assert.equal(size(parsed.value.v4), 256n - 5n);
    assert.equal(size(parsed.value.v6), 256n - 16n);
    const outside = parsePoolSpec({
      name: 'a',
      addresses: ['203.0.113.0/25'],
      exclude: ['203.0.113.128/30'],
    });
    assert.ok(!outside.ok);
    assert.equal(outside.error.code, 'NOT_IN_POOL');
  });

  it('avoidBuggyIPs drops exactly the .0 and .255 addresses, IPv4 only', () => {
    const three = parsePoolSpec({
      name: 'a',
      avoidBuggyIPs: true,
      addresses: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24', '2001:db8::/120'],
    });
    assert.ok(three.ok);
    assert.equal(size(three.value.v4), 3n * 254n);
    assert.equal(size(three.value.v6), 256n);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const parsed = parsePoolSpec({
          name: 'r',
          avoidBuggyIPs: true,
          addresses: [`192.0.2.${lo}-192.0.2.${hi}`],
        });
        assert.ok(parsed.ok);
        let expected = 0n;
        for (let x = lo; x <= hi; x++) if (x !== 0 && x !== 255) expected++;
        assert.equal(size(parsed.value.v4), expected);
      }),
    );
    const tooBig = parsePoolSpec({ name: 'a', avoidBuggyIPs: true, addresses: ['0.0.0.0/7'] });
    assert.ok(!tooBig.ok);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeCidr, parseCidr as oracleParse } from 'cidr-tools';
import fc from 'fast-check';
import {
  formatAddress,
  parseAddress,
  parseBlock,
  parseCidr,
  parseIpv4Number,
  parseRange,
} from './address.js';

function value(text: string): bigint {
  const parsed = parseAddress(text);
  assert.ok(parsed.ok, text);
  return parsed.value.value;
}

function rejects(text: string, fragment?: string): void {
  const parsed = parseAddress(text);
  assert.equal(parsed.ok, false, `${text} should be rejected`);
  if (!parsed.ok) {
    assert.equal(parsed.error.code, 'INVALID_ADDRESS');
    if (fragment !== undefined) assert.match(parsed.error.message, new RegExp(fragment));
  }
}

describe('parseAddress', () => {
  it('reads strict IPv4 and IPv6 text', () => {
    assert.deepEqual(parseAddress('192.0.2.1'), { ok: true, value: { family: 'v4', value: 0xc0000201n } });
    assert.equal(value('0.0.0.0'), 0n);
    assert.equal(value('255.255.255.255'), 0xffffffffn);
    assert.deepEqual(parseAddress('2001:db8::1'), {
      ok: true,
      value: { family: 'v6', value: 0x20010db8000000000000000000000001n },
    });
    assert.equal(value('::'), 0n);
    assert.equal(value('::1'), 1n);
    assert.equal(value('1::'), 1n << 112n);
    assert.equal(value('2001:DB8::A'), 0x20010db800000000000000000000000an);
    assert.equal(value('2001:0db8:0000:0000:0000:0000:0000:0001'), value('2001:db8::1'));
    assert.equal(value('::ffff:192.0.2.1'), 0xffffc0000201n);
    assert.equal(value('1:2:3:4:5:6:192.0.2.1'), value('1:2:3:4:5:6:c000:201'));
  });

  it('rejects the ambiguous IPv4 forms that inet_aton accepts', () => {
    rejects('010.0.0.1', 'octal');
    rejects('10.1', 'four');
    rejects('10.0.1', 'four');
    rejects('3221225985');
    rejects('0x0a.0.0.1');
    rejects('192.0.2.256', '0-255');
    rejects('192.0.2.1.');
    rejects('192.0.2.1 ');
    rejects(' 192.0.2.1');
    rejects('192.0.2.-1');
    rejects('1e1.0.0.1');
    rejects('');
  });

  it('rejects zones, brackets and malformed IPv6', () => {
    rejects('fe80::1%eth0', 'zone');
    rejects('[2001:db8::1]');
    rejects('2001:db8:::1');
    rejects('2001::db8::1', 'once');
    rejects(':2001:db8::1');
    rejects('2001:db8::1:');
    rejects('2001:db8:0:0:0:0:0:0:1');
    rejects('1:2:3:4:5:6:7');
    rejects('1:2:3:4:5:6:7:8::');
    rejects('12345::1', 'four hex');
    rejects('2001:db8::g');
    rejects('::ffff:192.0.2.01', 'embedded IPv4');
    rejects('1:2:3:4:5:6:7:192.0.2.1');
  });

  it('fast IPv4 path agrees with the full parser', () => {
    assert.equal(parseIpv4Number('198.51.100.7'), Number(value('198.51.100.7')));
    assert.equal(parseIpv4Number('198.51.100.07'), -1);
    assert.equal(parseIpv4Number('2001:db8::1'), -1);
  });
});

describe('formatAddress', () => {
  it('writes RFC 5952 text', () => {
    const cases: [string, string][] = [
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:db8:0:0:0:1:0:0', '2001:db8::1:0:0'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['1:0:0:0:0:0:0:0', '1::'],
      ['::ffff:c000:0201', '::ffff:192.0.2.1'],
      ['2001:DB8::AbC', '2001:db8::abc'],
    ];
    for (const [input, expected] of cases) assert.equal(formatAddress('v6', value(input)), expected, input);
    assert.equal(formatAddress('v4', 0xcb007101n), '203.0.113.1');
  });

  it('round-trips every value and agrees with cidr-tools on canonical IPv6 text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.boolean(), (raw, sparse) => {
        // Sparse values have long zero runs, where compression choices matter.
        const v = sparse ? raw & 0xffff0000ffff00000000ffff0000ffffn : raw;
        const text = formatAddress('v6', v);
        assert.equal(value(text), v);
        assert.equal(text, normalizeCidr(text));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => {
        const text = formatAddress('v4', BigInt(n));
        assert.equal(value(text), BigInt(n));
        assert.equal(oracleParse(text).start, BigInt(n));
      }),
    );
  });
});

describe('blocks', () => {
  it('parses CIDRs and refuses host bits, suggesting the network', () => {
    const block = parseCidr('198.51.100.0/24');
    assert.ok(block.ok);
    assert.equal(block.value.end - block.value.start, 255n);
    const hosty = parseCidr('198.51.100.5/24');
    assert.ok(!hosty.ok);
    assert.equal(hosty.error.code, 'INVALID_ADDRESS');
    assert.match(hosty.error.message, /198\.51\.100\.0\/24/);
    for (const bad of [
      '198.51.100.0/33',
      '198.51.100.0/024',
      '198.51.100.0/',
      '2001:db8::/129',
      '198.51.100.0/-1',
    ]) {
      assert.equal(parseCidr(bad).ok, false, bad);
    }
    const all = parseCidr('::/0');
    assert.ok(all.ok);
    assert.equal(all.value.end, (1n << 128n) - 1n);
  });

  it('parses ranges of one family, in order', () => {
    const range = parseRange('192.0.2.10 - 192.0.2.20');
    assert.ok(range.ok);
    assert.equal(range.value.end - range.value.start, 10n);
    assert.equal(parseRange('192.0.2.20-192.0.2.10').ok, false);
    assert.equal(parseRange('192.0.2.1-2001:db8::1').ok, false);
    assert.equal(parseRange('192.0.2.1-192.0.2.2-192.0.2.3').ok, false);
  });

  it('agrees with cidr-tools on the bounds of random documentation CIDRs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 32, max: 128 }),
        fc.bigInt({ min: 0n, max: (1n << 96n) - 1n }),
        (length, bits) => {
          const host = 128n - BigInt(length);
          const base = (0x20010db8n << 96n) | ((bits >> host) << host);
          const text = `${formatAddress('v6', base)}/${length}`;
          const mine = parseBlock(text);
          assert.ok(mine.ok, text);
          const theirs = oracleParse(text);
          assert.equal(mine.value.start, theirs.start);
          assert.equal(mine.value.end, theirs.end);
        },
      ),
    );
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareDseq, dseqOf, isDseq } from './index.js';

describe('dseq', () => {
  it('accepts canonical uint64s above 0 only', () => {
    for (const good of ['1', '42', '9007199254740993', '18446744073709551615']) assert.ok(isDseq(good), good);
    for (const bad of ['0', '01', '-1', '+1', '1.0', '1e3', ' 1', '18446744073709551616', '', 'abc']) {
      assert.ok(!isDseq(bad), bad);
    }
  });

  it('reads path segments as Go does: leading zeros allowed, canonical text out', () => {
    assert.equal(dseqOf('0003'), '3');
    assert.equal(dseqOf('18446744073709551615'), '18446744073709551615');
    assert.equal(dseqOf('0'), undefined);
    assert.equal(dseqOf('18446744073709551616'), undefined);
    assert.equal(dseqOf('12a'), undefined);
  });

  it('orders dseqs as numbers, exactly above 2^53', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
        fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
        (a, b) => {
          const expected = a < b ? -1 : a > b ? 1 : 0;
          assert.equal(Math.sign(compareDseq(a.toString(), b.toString())), expected);
        },
      ),
    );
  });
});

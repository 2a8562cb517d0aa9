import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PoolHistory } from './history.js';

const sample = (at: number) => ({
  at,
  providers: { p: { capacity: '4', allocated: String(at), reserved: '0', quarantined: '0' } },
});

describe('PoolHistory', () => {
  it('keeps samples oldest first', () => {
    const history = new PoolHistory(5);
    for (const at of [1, 2, 3]) history.add(sample(at));
    assert.deepEqual(
      history.list().map((s) => s.at),
      [1, 2, 3],
    );
  });

  it('drops the oldest beyond its size, so memory stays bounded', () => {
    const history = new PoolHistory(3);
    for (let at = 1; at <= 10; at++) history.add(sample(at));
    assert.deepEqual(
      history.list().map((s) => s.at),
      [8, 9, 10],
    );
  });

  it('refuses a size that is not a positive integer', () => {
    assert.throws(() => new PoolHistory(0), RangeError);
    assert.throws(() => new PoolHistory(1.5), RangeError);
  });
});

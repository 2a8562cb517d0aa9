import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedCache } from './bounded-cache.js';

describe('bounded cache', () => {
  it('drops the least recently used entry when full, and never returns an expired one', () => {
    let now = 0;
    const cache = new BoundedCache<string, number>(2, () => now);
    cache.set('a', 1, 100);
    cache.set('b', 2, 100);
    assert.equal(cache.get('a'), 1);
    cache.set('c', 3, 100);
    assert.equal(cache.size, 2);
    assert.equal(cache.get('b'), undefined, 'b was the least recently used');
    assert.equal(cache.get('a'), 1);
    now = 100;
    assert.equal(cache.get('a'), undefined, 'expired');
    assert.equal(cache.size, 1, 'and dropped when met');
  });

  it('stays within its bound under a flood of new keys', () => {
    const cache = new BoundedCache<number, number>(1000, () => 0);
    for (let key = 0; key < 100_000; key++) cache.set(key, key, 1);
    assert.equal(cache.size, 1000);
    assert.equal(cache.get(99_999), 99_999);
    assert.equal(cache.get(0), undefined);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DeadlineQueue, FREE, LIVE, QUARANTINED, Slots } from './slots.js';

describe('Slots', () => {
  it('packs state, pool, indexes and deadline per slot and recycles freed slots', () => {
    const slots = new Slots();
    const a = slots.take('k1', 'o1', LIVE);
    slots.setPool(a, 3);
    slots.setIndex(a, 'v4', 12);
    slots.setIndex(a, 'v6', 2n ** 80n);
    slots.setState(a, QUARANTINED);
    slots.setUntil(a, 1234);
    assert.deepEqual(
      [
        slots.key(a),
        slots.owner(a),
        slots.state(a),
        slots.pool(a),
        slots.index(a, 'v4'),
        slots.index(a, 'v6'),
      ],
      ['k1', 'o1', QUARANTINED, 3, 12, 2n ** 80n],
    );
    assert.equal(slots.until(a), 1234);
    slots.setPool(a, -1);
    assert.equal(slots.pool(a), -1);
    assert.equal(slots.state(a), QUARANTINED);
    slots.free(a);
    assert.equal(slots.state(a), FREE);
    const b = slots.take('k2', 'o2', LIVE);
    assert.equal(b, a);
    assert.equal(slots.index(b, 'v6'), undefined);
    assert.ok(slots.empty(b));
    for (let i = 0; i < 5000; i++) slots.take(`k${i}`, 'o', LIVE);
    assert.equal(slots.end, 5001);
  });
});

describe('DeadlineQueue', () => {
  it('yields entries by deadline, ties in arrival order, even when deadlines arrive out of order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (untils) => {
        const queue = new DeadlineQueue();
        untils.forEach((until, slot) => {
          queue.push(until, slot);
        });
        const expected = untils.map((until, slot) => ({ until, slot })).sort((x, y) => x.until - y.until);
        for (const { until, slot } of expected) {
          assert.equal(queue.peek(), until);
          assert.equal(queue.shift(), slot);
        }
        assert.equal(queue.size, 0);
        assert.equal(queue.peek(), Number.POSITIVE_INFINITY);
      }),
    );
  });
});

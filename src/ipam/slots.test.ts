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
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }),
        fc.array(fc.integer({ min: 0, max: 60 }), { maxLength: 5 }),
        (untils, cuts) => {
          const queue = new DeadlineQueue();
          untils.forEach((until, slot) => {
            queue.push(until, slot);
          });
          const expected = untils.map((until, slot) => ({ until, slot })).sort((x, y) => x.until - y.until);
          const taken: number[] = [];
          for (const now of [...cuts].sort((a, b) => a - b)) {
            assert.ok(queue.peek() > now || queue.size > 0);
            taken.push(...queue.takeDue(now));
            assert.ok(queue.peek() > now);
          }
          taken.push(...queue.takeDue(Number.POSITIVE_INFINITY));
          assert.deepEqual(
            taken,
            expected.map((e) => e.slot),
          );
          assert.equal(queue.size, 0);
          assert.equal(queue.peek(), Number.POSITIVE_INFINITY);
        },
      ),
    );
  });

  it('compacts after many expiries', () => {
    const queue = new DeadlineQueue();
    for (let i = 0; i < 10_000; i++) queue.push(i, i);
    assert.deepEqual(queue.takeDue(5999).length, 6000);
    assert.equal(queue.size, 4000);
    assert.equal(queue.peek(), 6000);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type Index, IndexTree, TreeBuilder, toIndex } from './index-tree.js';

/** The smallest non-negative integer not in the model. */
function modelGap(model: Map<Index, number>): number {
  let gap = 0;
  while (model.has(gap)) gap++;
  return gap;
}

function assertSame(tree: IndexTree, model: Map<Index, number>): void {
  const expected = [...model].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  assert.deepEqual([...tree.entries()], expected);
  assert.equal(tree.size, model.size);
  assert.equal(tree.lowestGap(), modelGap(model));
}

const command = fc.oneof(
  {
    arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.integer({ min: 0, max: 600 }) }),
    weight: 5,
  },
  {
    arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 600 }) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ op: fc.constant('fill' as const), key: fc.integer({ min: 1, max: 300 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('big' as const),
      key: fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n }).map(toIndex),
    }),
    weight: 1,
  },
);

describe('IndexTree', () => {
  it('behaves like a sorted map with a lowest-gap query, through splits and merges', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 400 }), (commands) => {
        const tree = new IndexTree();
        const model = new Map<Index, number>();
        let value = 0;
        for (const { op, key } of commands) {
          if (op === 'delete') {
            assert.equal(tree.delete(key), model.get(key) ?? -1);
            model.delete(key);
          } else if (op === 'fill') {
            // The allocator's pattern: take the lowest gap, many times.
            for (let i = 0; i < (key as number); i++) {
              const gap = tree.lowestGap();
              assert.equal(gap, modelGap(model));
              tree.set(gap, value);
              model.set(gap, value++);
            }
          } else {
            tree.set(key, value);
            model.set(key, value++);
          }
          assert.equal(tree.get(key), model.get(key) ?? -1);
        }
        assertSame(tree, model);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps numbers and bigints apart only by size', () => {
    assert.equal(toIndex(5n), 5);
    assert.equal(toIndex(2n ** 53n - 1n), 2 ** 53 - 1);
    assert.equal(toIndex(2n ** 53n), 2n ** 53n);
    const tree = new IndexTree();
    tree.set(2n ** 60n, 1);
    tree.set(3, 2);
    tree.set(0, 3);
    assert.deepEqual(
      [...tree.entries()],
      [
        [0, 3],
        [3, 2],
        [2n ** 60n, 1],
      ],
    );
    assert.equal(tree.lowestGap(), 1);
    assert.equal(tree.get(2n ** 60n), 1);
  });

  it('bulk-loads, retains and rejects duplicates', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 5000 }), { maxLength: 1500 }), (keys) => {
        const builder = new TreeBuilder(keys.length);
        keys.forEach((k, slot) => {
          builder.add(k, slot);
        });
        builder.add(2n ** 70n, 0);
        const { tree, duplicate } = builder.build();
        assert.equal(duplicate, undefined);
        const model = new Map<Index, number>(keys.map((k, slot) => [k, slot]));
        model.set(2n ** 70n, 0);
        assertSame(tree, model);
        tree.retain((slot) => slot % 3 !== 0);
        for (const [k, slot] of model) if (slot % 3 === 0) model.delete(k);
        assertSame(tree, model);
      }),
      { numRuns: 60 },
    );
    const twice = new TreeBuilder(4);
    twice.add(7, 1);
    twice.add(7, 2);
    assert.equal(twice.build().duplicate, 7);
  });

  it('finds the first gap of a large dense tree without scanning it', () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => (i < 70_000 ? i : i + 1));
    const tree = IndexTree.fromSorted(keys, keys);
    assert.equal(tree.lowestGap(), 70_000);
    tree.set(70_000, 0);
    assert.equal(tree.lowestGap(), 100_001);
  });
});
